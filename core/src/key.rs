//! The node's identity key on disk.
//!
//! One Ed25519 key per node, stored as PKCS#8 PEM (readable by
//! `openssl pkey`). The core only reads and writes the file; the signing
//! itself happens inside the identity provider, which receives the PEM as
//! configuration, so the key never enters WASM.

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;

/// Why a key could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file could not be read.
    #[error(
        "cannot read identity key {path}: {source}; create one with `ww keygen --output {path}`"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not an Ed25519 PKCS#8 PEM key.
    #[error("{path} is not an Ed25519 private key in PKCS#8 PEM form ({reason}); create one with `ww keygen`")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// The output file exists and `--force` was not given.
    #[error("{path} already exists; refusing to overwrite a key (pass --force to replace it)")]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// Writing the key failed.
    #[error("cannot write identity key {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// A fresh key from the operating system's CSPRNG.
pub fn generate() -> SigningKey {
    SigningKey::generate(&mut rand_core::OsRng)
}

/// The key as PKCS#8 PEM.
pub fn to_pem(key: &SigningKey) -> String {
    key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .expect("an Ed25519 key always encodes")
        .to_string()
}

/// Reads a key written by [`write`] (or any Ed25519 PKCS#8 PEM).
///
/// # Errors
///
/// A missing file or one that is not such a key.
pub fn read(path: &Path) -> Result<SigningKey, KeyError> {
    let pem = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| KeyError::Malformed {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Writes `key` to `path` with mode 0600, refusing to replace an existing
/// file unless `force`.
///
/// # Errors
///
/// An existing file without `force`, or an I/O failure.
pub fn write(path: &Path, key: &SigningKey, force: bool) -> Result<(), KeyError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(0o600);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => KeyError::Exists {
            path: path.to_path_buf(),
        },
        _ => KeyError::Write {
            path: path.to_path_buf(),
            source,
        },
    })?;
    file.write_all(to_pem(key).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|source| KeyError::Write {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.key");
        let key = generate();
        write(&path, &key, false).unwrap();
        assert_eq!(read(&path).unwrap().to_bytes(), key.to_bytes());
        assert!(matches!(
            write(&path, &generate(), false),
            Err(KeyError::Exists { .. })
        ));
        write(&path, &generate(), true).unwrap();
        assert_ne!(read(&path).unwrap().to_bytes(), key.to_bytes());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn malformed_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.key");
        std::fs::write(&path, "not a key").unwrap();
        let err = read(&path).unwrap_err();
        assert!(matches!(err, KeyError::Malformed { .. }));
        assert!(err.to_string().contains("ww keygen"));
    }
}
