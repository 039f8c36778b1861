//! Captures the compiler version and target for the provider fingerprint
//! (see src/fingerprint.rs): a plugin and a host built by different rustc
//! versions or for different targets must never exchange Rust types.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let output = Command::new(&rustc)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("running `{rustc} --version` failed: {e}"));
    let text = String::from_utf8_lossy(&output.stdout);
    // "rustc 1.95.0 (<hash> <date>)": the second word is the version.
    let version = text
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("unexpected `{rustc} --version` output: {text:?}"));
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    println!("cargo:rustc-env=WW_SDK_RUSTC_VERSION={version}");
    println!("cargo:rustc-env=WW_SDK_TARGET={target}");
    println!("cargo:rerun-if-env-changed=RUSTC");
    println!("cargo:rerun-if-changed=build.rs");
}
