//! `ww init NAME`: a new guest project that builds with `ww build NAME` and
//! runs with `ww run NAME` on the first try, wherever it is created.
//!
//! The project depends on the guest SDK by absolute path (the `std/guest`
//! of the ww checkout this binary was built from, or `--sdk`), declares an
//! empty `[workspace]` so no workspace around it claims it, and starts from
//! a copy of the checkout's `Cargo.lock`, so it builds with the crate
//! versions ww itself is tested with (cargo drops the entries it does not
//! need). The directory doubles as the image: `ww build` writes
//! `NAME/boot/main.wasm`.

use std::path::{Path, PathBuf};

/// Where the guest SDK was when this `ww` was built.
const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../std/guest");

/// Why a project could not be created.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The name cannot be a crate name.
    #[error("`{name}` cannot name a Rust crate: use letters, digits, `-` and `_`, starting with a letter")]
    BadName {
        /// The name given.
        name: String,
    },
    /// The directory exists and holds something.
    #[error("{dir} already exists and is not empty: pick another name or remove it")]
    Exists {
        /// The directory.
        dir: PathBuf,
    },
    /// No guest SDK where it was looked for.
    #[error("no ww guest SDK at {path} (this ww was built from a checkout that has moved): pass --sdk /path/to/ww/std/guest or set WW_GUEST_SDK")]
    NoSdk {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Creates the project at `dir` (its last component names the crate) with
/// the guest SDK at `sdk` (default: the one this `ww` was built with).
///
/// # Errors
///
/// See [`InitError`]; nothing is written when the name, the directory or
/// the SDK is wrong.
pub fn init(dir: &Path, sdk: Option<&Path>) -> Result<(), InitError> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    if !valid_name(&name) {
        return Err(InitError::BadName {
            name: dir.display().to_string(),
        });
    }
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(InitError::Exists {
            dir: dir.to_path_buf(),
        });
    }
    let sdk = sdk.map_or_else(|| PathBuf::from(BUILT_SDK), Path::to_path_buf);
    let sdk = std::fs::canonicalize(&sdk)
        .ok()
        .filter(|p| p.join("Cargo.toml").is_file())
        .ok_or(InitError::NoSdk { path: sdk })?;

    let write = |path: PathBuf, text: &str| {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| InitError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, text).map_err(|source| InitError::Write { path, source })
    };
    write(dir.join("Cargo.toml"), &manifest(&name, &sdk))?;
    write(dir.join("src/main.rs"), &MAIN.replace("{name}", &name))?;
    write(dir.join(".gitignore"), "/target\n/boot\n")?;
    write(dir.join("README.md"), &README.replace("{name}", &name))?;
    // The checkout's lock: the versions ww is tested with.
    if let Some(lock) = sdk
        .parent()
        .and_then(Path::parent)
        .map(|r| r.join("Cargo.lock"))
    {
        if let Ok(text) = std::fs::read_to_string(lock) {
            write(dir.join("Cargo.lock"), &text)?;
        }
    }
    Ok(())
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn manifest(name: &str, sdk: &Path) -> String {
    // Debug formatting quotes and escapes the path as TOML accepts.
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"

[dependencies]
ww-guest = {{ path = {sdk:?} }}

# A project of its own: no workspace around it claims it.
[workspace]
"#,
        sdk = sdk.display().to_string()
    )
}

/// The project's `src/main.rs`.
const MAIN: &str = r#"//! {name}: a ww cell. It signs a message with the node's key (the key never
//! enters WASM) and spawns a child cell, through typed WIT imports.
//!
//!     ww build {name} && ww run {name}

use ww_guest::wit;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The child: this same program, started by the parent below.
    if std::env::args().nth(1).as_deref() == Some("child") {
        println!("hello from the child");
        return Ok(());
    }

    // Everything this cell may use, guarded by the node's current epoch.
    let caps = wit::graft()?;

    let identity = caps.identity.ok_or("this node grants no identity")?;
    let signer = identity.signer("{name}")?;
    let signature = signer.sign(b"hello", caps.epoch.seq)?;
    let hex: String = signature.iter().map(|b| format!("{b:02x}")).collect();
    println!("signed \"hello\" in epoch {}: {hex}", caps.epoch.seq);

    // A child gets nothing but what it is given: here, no capabilities and
    // no file system.
    let executor = caps.executor.ok_or("this node grants no executor")?;
    let args = ["/boot/main.wasm".to_string(), "child".to_string()];
    let limits = wit::Limits { max_memory_bytes: 0, cpu_millis: 0 };
    let child = executor.spawn(&args, &[], &[], limits, "")?;
    let said = child.stdout()?.read_to_end(4096)?;
    print!("child said: {}", String::from_utf8_lossy(&said));
    println!("child exited with {}", child.wait()?.code);
    Ok(())
}
"#;

/// The project's `README.md`.
const README: &str = r#"# {name}

A ww cell. `src/main.rs` signs a message with the node's key and spawns a
child cell, through the typed WIT imports of the guest SDK (`ww_guest::wit`).

```sh
ww build {name}   # builds src/main.rs for wasm32-wasip2 into {name}/boot/main.wasm
ww run {name}     # boots it as pid0 of a node
```

The SDK's RPC vat (`ww_guest::run`, `ww_guest::graft`) reaches the same
capabilities over Cap'n Proto, plus capability passing across the network
and third-party providers.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_crate_names() {
        assert!(valid_name("demo"));
        assert!(valid_name("my-cell_2"));
        assert!(!valid_name(""));
        assert!(!valid_name("2cells"));
        assert!(!valid_name("a b"));
        assert!(!valid_name(".."));
    }

    #[test]
    fn refuses_a_non_empty_directory_and_a_missing_sdk() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("keep"), "x").unwrap();
        assert!(matches!(init(&dir, None), Err(InitError::Exists { .. })));
        let empty = tmp.path().join("other");
        let missing = tmp.path().join("no-sdk-here");
        assert!(matches!(
            init(&empty, Some(&missing)),
            Err(InitError::NoSdk { .. })
        ));
        assert!(!empty.exists(), "nothing is written on a bad SDK path");
    }

    #[test]
    fn writes_a_project_depending_on_the_sdk_by_absolute_path() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        init(&dir, None).unwrap();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let sdk = std::fs::canonicalize(BUILT_SDK).unwrap();
        assert!(manifest.contains(&format!("path = {:?}", sdk.display().to_string())));
        assert!(manifest.contains("[workspace]"));
        let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
        assert!(main.contains("identity.signer(\"demo\")"));
        assert!(dir.join("Cargo.lock").is_file());
    }
}
