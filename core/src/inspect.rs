//! `ww providers`: what a provider exports, requires and reads, and the ABI
//! fingerprint it was built with — before an operator trusts it with a node.

use std::fmt::Write;
use std::path::PathBuf;

use ww_provider_sdk::manifest::{Audience, Manifest};

use crate::registry::{self, RegistryError};

/// Describes each library in `paths`, or the built-in providers when `paths`
/// is empty.
///
/// # Errors
///
/// The first library that cannot be loaded (not a provider, ABI mismatch).
pub fn describe(paths: &[PathBuf]) -> Result<String, RegistryError> {
    let mut out = String::new();
    let host = ww_provider_sdk::fingerprint::current();
    if paths.is_empty() {
        let _ = writeln!(out, "built-in providers (host ABI: {host})");
        for provider in registry::builtins() {
            manifest(&mut out, &provider.manifest(), "built in", None);
        }
        return Ok(out);
    }
    for library in registry::load_libraries(paths)? {
        let origin = library.path.display().to_string();
        manifest(
            &mut out,
            &library.manifest,
            &origin,
            Some(&library.fingerprint.to_string()),
        );
    }
    Ok(out)
}

fn manifest(out: &mut String, m: &Manifest, origin: &str, abi: Option<&str>) {
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "-".to_string()
        } else {
            items.join(", ")
        }
    };
    let exports = m
        .exports
        .iter()
        .map(|x| match x.audience {
            Audience::Guests => x.name.clone(),
            Audience::Providers => format!("{} (providers only)", x.name),
        })
        .collect();
    let _ = writeln!(out, "{} {} ({origin})", m.name, m.version);
    let _ = writeln!(out, "  exports   {}", list(exports));
    let _ = writeln!(out, "  requires  {}", list(m.requires.clone()));
    for key in &m.config {
        let need = if key.required { "required" } else { "optional" };
        let _ = writeln!(out, "  config    {} ({need}): {}", key.key, key.help);
    }
    if let Some(abi) = abi {
        let _ = writeln!(out, "  abi       {abi}");
    }
}
