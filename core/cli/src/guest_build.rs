//! `ww build DIR`: compile a guest crate into an image's `boot/main.wasm`.
//!
//! Runs `cargo build --release --target wasm32-wasip2` on the crate, finds the
//! wasm it produced from cargo's JSON messages (so workspaces and custom
//! target dirs work), and copies it to `DIR/boot/main.wasm`: the crate
//! directory doubles as the image directory.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The target guests are built for.
pub const TARGET: &str = "wasm32-wasip2";

/// Why a guest could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// No Cargo.toml in the directory.
    #[error("{dir} has no Cargo.toml; `ww build` takes the directory of a guest crate")]
    NotACrate {
        /// The directory.
        dir: PathBuf,
    },
    /// cargo could not be run.
    #[error("cannot run cargo: {0}; install Rust from https://rustup.rs")]
    Cargo(std::io::Error),
    /// cargo failed (its own messages were shown above).
    #[error("cargo build failed for {dir} (see its messages above); if the target is missing: rustup target add {TARGET}")]
    Failed {
        /// The crate directory.
        dir: PathBuf,
    },
    /// The crate produced no binary.
    #[error("{dir} built no {TARGET} binary; a guest is a binary crate (src/main.rs)")]
    NoBinary {
        /// The crate directory.
        dir: PathBuf,
    },
    /// Several binaries and no `--bin`.
    #[error("{dir} builds several binaries ({}); pick one with --bin NAME", names.join(", "))]
    Ambiguous {
        /// The crate directory.
        dir: PathBuf,
        /// Binary names.
        names: Vec<String>,
    },
    /// Copying the artefact failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The destination.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Builds the guest crate in `dir` and writes `dir/boot/main.wasm`; returns
/// that path.
///
/// # Errors
///
/// See [`BuildError`].
pub fn build(dir: &Path, bin: Option<&str>) -> Result<PathBuf, BuildError> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(BuildError::NotACrate {
            dir: dir.to_path_buf(),
        });
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--release",
        "--target",
        TARGET,
        "--message-format=json-render-diagnostics",
    ])
    .arg("--manifest-path")
    .arg(&manifest)
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    if let Some(bin) = bin {
        cmd.args(["--bin", bin]);
    }
    let mut child = cmd.spawn().map_err(BuildError::Cargo)?;
    let mut wasms: Vec<(String, PathBuf)> = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(found) = binary_artifact(&line, &manifest) {
                wasms.push(found);
            }
        }
    }
    let status = child.wait().map_err(BuildError::Cargo)?;
    if !status.success() {
        return Err(BuildError::Failed {
            dir: dir.to_path_buf(),
        });
    }
    let wasm = match wasms.as_slice() {
        [] => {
            return Err(BuildError::NoBinary {
                dir: dir.to_path_buf(),
            })
        }
        [(_, path)] => path.clone(),
        many => {
            return Err(BuildError::Ambiguous {
                dir: dir.to_path_buf(),
                names: many.iter().map(|(n, _)| n.clone()).collect(),
            })
        }
    };
    let dest = dir.join(ww_core::image::BOOT);
    let write = |source| BuildError::Write {
        path: dest.clone(),
        source,
    };
    std::fs::create_dir_all(dest.parent().unwrap_or(dir)).map_err(write)?;
    std::fs::copy(&wasm, &dest).map_err(write)?;
    Ok(dest)
}

/// `(name, path)` of a wasm binary built from `manifest`, from one line of
/// cargo's JSON output.
fn binary_artifact(line: &str, manifest: &Path) -> Option<(String, PathBuf)> {
    let msg: serde_json::Value = serde_json::from_str(line).ok()?;
    if msg["reason"] != "compiler-artifact" {
        return None;
    }
    let kinds = msg["target"]["kind"].as_array()?;
    if !kinds.iter().any(|k| k == "bin") {
        return None;
    }
    let from = Path::new(msg["manifest_path"].as_str()?);
    let same = |a: &Path, b: &Path| a.canonicalize().ok() == b.canonicalize().ok();
    if !same(from, manifest) {
        return None;
    }
    let exe = PathBuf::from(msg["executable"].as_str()?);
    let name = msg["target"]["name"].as_str()?.to_string();
    Some((name, exe))
}
