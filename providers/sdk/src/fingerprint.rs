//! The compatibility fingerprint a provider library announces before
//! anything else.
//!
//! What a node and a provider library must agree on is small, because only
//! two things cross the library boundary: abi_stable's FFI types (the
//! manifest, the byte sinks), and Cap'n Proto bytes on those sinks. So:
//!
//! - `abi`: [`ABI_VERSION`], bumped when the FFI types change. abi_stable
//!   checks their layout at load as well, and refuses a library whose types
//!   differ, whichever compiler built it.
//! - `protocol`: the provider protocol (`provider.capnp`'s
//!   `protocolVersion`), the same number a provider *process* announces in
//!   its handshake. Past that, compatibility is Cap'n Proto's: interface ids
//!   and schema evolution, so a provider built against schemas whose text
//!   differs only by comments, new methods or new fields still loads.
//! - `target`: a library for another machine cannot run here.
//!
//! `sdk` and `rustc` are announced for the operator's information and named
//! in a refusal, but not compared: a library built by another compiler is
//! fine as long as abi_stable finds its types laid out alike (each library
//! carries its own `std`, allocator, panic runtime and tokio; no Rust type
//! outside abi_stable's checked ones crosses).
//!
//! The loader reads this plain C string first (`ww_provider_fingerprint`)
//! and refuses a mismatch with a message naming both sides.

use std::fmt;
use std::str::FromStr;

/// Bumped on any change to what crosses the FFI boundary.
pub const ABI_VERSION: u32 = 1;

/// The provider protocol this SDK speaks, for libraries and processes alike.
pub const PROTOCOL_VERSION: u32 = ww_capnp::provider_capnp::PROTOCOL_VERSION;

/// The first word of a fingerprint's text form.
const PREFIX: &str = "ww-provider";

/// What a host and a plugin announce to each other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// [`ABI_VERSION`] of the SDK that built it.
    pub abi: u32,
    /// The provider protocol it speaks; `None` from an SDK older than the
    /// protocol number (which spoke no number a node can accept).
    pub protocol: Option<u32>,
    /// The SDK's crate version (informative).
    pub sdk: String,
    /// The rustc version, e.g. "1.95.0" (informative).
    pub rustc: String,
    /// The target triple.
    pub target: String,
}

/// The fingerprint of this build.
pub fn current() -> Fingerprint {
    Fingerprint {
        abi: ABI_VERSION,
        protocol: Some(PROTOCOL_VERSION),
        sdk: env!("CARGO_PKG_VERSION").to_string(),
        rustc: env!("WW_SDK_RUSTC_VERSION").to_string(),
        target: env!("WW_SDK_TARGET").to_string(),
    }
}

fn protocol_text(protocol: Option<u32>) -> String {
    protocol.map_or_else(|| "none".to_string(), |p| p.to_string())
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX} abi={} protocol={} sdk={} rustc={} target={}",
            self.abi,
            protocol_text(self.protocol),
            self.sdk,
            self.rustc,
            self.target
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
    /// (an older SDK's `schemas=`, a future SDK's fields) are ignored so
    /// that any SDK can be named in a mismatch message.
    fn from_str(text: &str) -> Result<Self, ParseError> {
        let err = |reason: String| ParseError {
            text: text.to_string(),
            reason,
        };
        let mut words = text.split_whitespace();
        if words.next() != Some(PREFIX) {
            return Err(err(format!("it does not start with `{PREFIX}`")));
        }
        let number = |key: &str, value: &str| {
            value
                .parse::<u32>()
                .map_err(|e| err(format!("{key} `{value}`: {e}")))
        };
        let (mut abi, mut protocol, mut sdk, mut rustc, mut target) =
            (None, None, None, None, None);
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| err(format!("`{word}` is not key=value")))?;
            match key {
                "abi" => abi = Some(number(key, value)?),
                "protocol" if value == "none" => {}
                "protocol" => protocol = Some(number(key, value)?),
                "sdk" => sdk = Some(value.to_string()),
                "rustc" => rustc = Some(value.to_string()),
                "target" => target = Some(value.to_string()),
                _ => {}
            }
        }
        let missing = |k: &str| err(format!("it has no `{k}=`"));
        Ok(Fingerprint {
            abi: abi.ok_or_else(|| missing("abi"))?,
            protocol,
            sdk: sdk.ok_or_else(|| missing("sdk"))?,
            rustc: rustc.ok_or_else(|| missing("rustc"))?,
            target: target.ok_or_else(|| missing("target"))?,
        })
    }
}

/// One differing field: its name, the host's value, the plugin's value.
pub type Difference = (&'static str, String, String);

/// Whether a plugin built as `plugin` may be loaded by a host built as `host`.
///
/// `abi`, `protocol` and `target` must be equal; `sdk` and `rustc` may
/// differ (abi_stable then checks the layouts).
///
/// # Errors
///
/// Every compared field that differs, with both values.
pub fn check(host: &Fingerprint, plugin: &Fingerprint) -> Result<(), Vec<Difference>> {
    let mut diffs = Vec::new();
    if host.abi != plugin.abi {
        diffs.push(("abi", host.abi.to_string(), plugin.abi.to_string()));
    }
    if host.protocol != plugin.protocol {
        diffs.push((
            "protocol",
            protocol_text(host.protocol),
            protocol_text(plugin.protocol),
        ));
    }
    if host.target != plugin.target {
        diffs.push(("target", host.target.clone(), plugin.target.clone()));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs)
    }
}

/// "abi: host 1, plugin 0; protocol: host 1, plugin none" — every
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
    use capnp::traits::HasTypeId;

    #[test]
    fn display_round_trips() {
        let fp = current();
        let text = fp.to_string();
        assert!(
            text.starts_with("ww-provider abi=1 protocol=1 sdk="),
            "{text}"
        );
        assert_eq!(text.parse::<Fingerprint>().unwrap(), fp);
    }

    #[test]
    fn current_matches_itself() {
        assert_eq!(check(&current(), &current()), Ok(()));
    }

    #[test]
    fn another_compiler_or_sdk_release_is_not_a_mismatch() {
        let host = current();
        let mut plugin = current();
        plugin.sdk = "0.9.3".into();
        plugin.rustc = "1.80.0".into();
        assert_eq!(check(&host, &plugin), Ok(()));
    }

    #[test]
    fn every_differing_field_is_named_with_both_values() {
        let host = current();
        // What the SDK before the protocol number announced.
        let plugin: Fingerprint = "ww-provider abi=0 sdk=0.0.1 rustc=1.80.0 target=aarch64-unknown-linux-gnu schemas=0000000000000000"
            .parse()
            .unwrap();
        let diffs = check(&host, &plugin).unwrap_err();
        let fields: Vec<_> = diffs.iter().map(|d| d.0).collect();
        assert_eq!(fields, ["abi", "protocol", "target"]);
        let text = describe(&host, &plugin);
        assert!(text.contains("abi: host 1, plugin 0"), "{text}");
        assert!(text.contains("protocol: host 1, plugin none"), "{text}");
    }

    #[test]
    fn unknown_fields_are_ignored_and_missing_ones_refused() {
        let text = format!("{} extra=1", current());
        assert_eq!(text.parse::<Fingerprint>().unwrap(), current());
        assert!("ww-provider abi=1".parse::<Fingerprint>().is_err());
        assert!("something else".parse::<Fingerprint>().is_err());
        assert!("ww-provider abi=x sdk=1 rustc=1 target=t"
            .parse::<Fingerprint>()
            .is_err());
    }

    /// The provider protocol is pinned to the ids of what it is made of:
    /// `Plugin` and the structures its `start` and the handshake carry. An
    /// id changes only when a type is renamed or moved to another file,
    /// which old providers cannot follow: when this test fails, bump
    /// `protocolVersion` in provider.capnp and update the ids here.
    #[test]
    fn the_protocol_number_pins_the_ids_it_is_made_of() {
        use ww_capnp::membrane_capnp::export;
        use ww_capnp::provider_capnp::{hello, manifest, plugin, setting, welcome};
        assert_eq!(PROTOCOL_VERSION, 1);
        let ids = [
            plugin::Client::TYPE_ID,
            setting::Builder::TYPE_ID,
            export::Builder::TYPE_ID,
            hello::Builder::TYPE_ID,
            welcome::Builder::TYPE_ID,
            manifest::Builder::TYPE_ID,
        ];
        assert_eq!(ids, PROTOCOL_1_IDS, "{ids:#x?}");
    }

    const PROTOCOL_1_IDS: [u64; 6] = [
        0x924d_7585_68fe_a102,
        0xebe8_ad4d_7ce1_5371,
        0xac3d_c491_7ab8_95ba,
        0xb3a8_92ea_88f1_e228,
        0x8b7a_5f72_c9dc_ebd2,
        0xf4f0_163f_7627_db29,
    ];
}
