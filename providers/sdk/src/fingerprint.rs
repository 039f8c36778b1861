//! The compatibility fingerprint a plugin announces before anything else.
//!
//! A Rust shared library can only be trusted with Rust types when host and
//! plugin agree on the ABI version of this SDK, the compiler, the target and
//! the Cap'n Proto schemas. abi_stable checks type layouts, but it accepts a
//! newer library than the host and knows nothing of schemas, so the loader
//! reads this plain C string first (`ww_provider_fingerprint`) and refuses a
//! mismatch with a message naming both sides.

use std::fmt;
use std::str::FromStr;

/// Bumped on any change to what crosses the FFI boundary.
pub const ABI_VERSION: u32 = 1;

/// The first word of a fingerprint's text form.
const PREFIX: &str = "ww-provider";

/// What a host and a plugin must agree on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// [`ABI_VERSION`] of the SDK that built it.
    pub abi: u32,
    /// The SDK's crate version.
    pub sdk: String,
    /// The rustc version (e.g. "1.95.0").
    pub rustc: String,
    /// The target triple.
    pub target: String,
    /// `ww_capnp::SCHEMA_FINGERPRINT` of the schemas it was built with.
    pub schemas: String,
}

/// The fingerprint of this build.
pub fn current() -> Fingerprint {
    Fingerprint {
        abi: ABI_VERSION,
        sdk: env!("CARGO_PKG_VERSION").to_string(),
        rustc: env!("WW_SDK_RUSTC_VERSION").to_string(),
        target: env!("WW_SDK_TARGET").to_string(),
        schemas: ww_capnp::SCHEMA_FINGERPRINT.to_string(),
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX} abi={} sdk={} rustc={} target={} schemas={}",
            self.abi, self.sdk, self.rustc, self.target, self.schemas
        )
    }
}

/// A fingerprint text that does not parse.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("not a ww provider fingerprint ({reason}): {text:?}")]
pub struct ParseError {
    /// The text given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for Fingerprint {
    type Err = ParseError;

    /// Parses the [`Display`](fmt::Display) form. Unknown `key=value` words
    /// are ignored so that a future SDK can add fields and still be named in
    /// a mismatch message.
    fn from_str(text: &str) -> Result<Self, ParseError> {
        let err = |reason: String| ParseError {
            text: text.to_string(),
            reason,
        };
        let mut words = text.split_whitespace();
        if words.next() != Some(PREFIX) {
            return Err(err(format!("it does not start with `{PREFIX}`")));
        }
        let (mut abi, mut sdk, mut rustc, mut target, mut schemas) = (None, None, None, None, None);
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| err(format!("`{word}` is not key=value")))?;
            let value = value.to_string();
            match key {
                "abi" => {
                    abi = Some(
                        value
                            .parse::<u32>()
                            .map_err(|e| err(format!("abi `{value}`: {e}")))?,
                    )
                }
                "sdk" => sdk = Some(value),
                "rustc" => rustc = Some(value),
                "target" => target = Some(value),
                "schemas" => schemas = Some(value),
                _ => {}
            }
        }
        let missing = |k: &str| err(format!("it has no `{k}=`"));
        Ok(Fingerprint {
            abi: abi.ok_or_else(|| missing("abi"))?,
            sdk: sdk.ok_or_else(|| missing("sdk"))?,
            rustc: rustc.ok_or_else(|| missing("rustc"))?,
            target: target.ok_or_else(|| missing("target"))?,
            schemas: schemas.ok_or_else(|| missing("schemas"))?,
        })
    }
}

/// One differing field: its name, the host's value, the plugin's value.
pub type Difference = (&'static str, String, String);

/// Whether a plugin built as `plugin` may be loaded by a host built as `host`.
///
/// `abi`, `rustc`, `target` and `schemas` must be equal; `sdk` versions may
/// differ only in their patch number.
///
/// # Errors
///
/// Every field that differs, with both values.
pub fn check(host: &Fingerprint, plugin: &Fingerprint) -> Result<(), Vec<Difference>> {
    let mut diffs = Vec::new();
    if host.abi != plugin.abi {
        diffs.push(("abi", host.abi.to_string(), plugin.abi.to_string()));
    }
    if major_minor(&host.sdk) != major_minor(&plugin.sdk) {
        diffs.push(("sdk", host.sdk.clone(), plugin.sdk.clone()));
    }
    for (field, h, p) in [
        ("rustc", &host.rustc, &plugin.rustc),
        ("target", &host.target, &plugin.target),
        ("schemas", &host.schemas, &plugin.schemas),
    ] {
        if h != p {
            diffs.push((field, h.clone(), p.clone()));
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs)
    }
}

/// "1.2" of "1.2.3"; the whole text when it has no second dot.
fn major_minor(version: &str) -> &str {
    match version.match_indices('.').nth(1) {
        Some((i, _)) => &version[..i],
        None => version,
    }
}

/// "abi: host 1, plugin 0; rustc: host 1.95.0, plugin 1.80.0" — every
/// differing field with both values.
pub(crate) fn describe(host: &Fingerprint, plugin: &Fingerprint) -> String {
    match check(host, plugin) {
        Ok(()) => "no field differs".to_string(),
        Err(diffs) => diffs
            .iter()
            .map(|(field, h, p)| format!("{field}: host {h}, plugin {p}"))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_round_trips() {
        let fp = current();
        let text = fp.to_string();
        assert!(text.starts_with("ww-provider abi=1 sdk="), "{text}");
        assert_eq!(text.parse::<Fingerprint>().unwrap(), fp);
    }

    #[test]
    fn current_matches_itself() {
        assert_eq!(check(&current(), &current()), Ok(()));
    }

    #[test]
    fn patch_versions_may_differ_but_not_minor() {
        let mut host = current();
        host.sdk = "0.1.0".into();
        let mut plugin = current();
        plugin.sdk = "0.1.9".into();
        assert_eq!(check(&host, &plugin), Ok(()));
        plugin.sdk = "0.2.0".into();
        let diffs = check(&host, &plugin).unwrap_err();
        assert_eq!(diffs, vec![("sdk", host.sdk.clone(), "0.2.0".to_string())]);
    }

    #[test]
    fn every_differing_field_is_named_with_both_values() {
        let host = current();
        let plugin: Fingerprint = "ww-provider abi=0 sdk=0.0.1 rustc=1.80.0 target=x86_64-unknown-linux-gnu schemas=0000000000000000"
            .parse()
            .unwrap();
        let diffs = check(&host, &plugin).unwrap_err();
        let fields: Vec<_> = diffs.iter().map(|d| d.0).collect();
        assert!(fields.contains(&"abi") && fields.contains(&"sdk") && fields.contains(&"schemas"));
        let text = describe(&host, &plugin);
        assert!(text.contains("abi: host 1, plugin 0"), "{text}");
        assert!(
            text.contains(&format!("rustc: host {}, plugin 1.80.0", host.rustc)),
            "{text}"
        );
    }

    #[test]
    fn unknown_fields_are_ignored_and_missing_ones_refused() {
        let text = format!("{} extra=1", current());
        assert_eq!(text.parse::<Fingerprint>().unwrap(), current());
        assert!("ww-provider abi=1".parse::<Fingerprint>().is_err());
        assert!("something else".parse::<Fingerprint>().is_err());
        assert!("ww-provider abi=x sdk=1 rustc=1 target=t schemas=s"
            .parse::<Fingerprint>()
            .is_err());
    }
}
