//! Which keys may log in: `ww run --allow-key KEY|FILE`.
//!
//! A key is named the way ww prints one: 64 hex digits of the Ed25519
//! public key (`ww keygen` prints it). A file may hold such keys one a line
//! (`#` starts a comment, like an `authorized_keys` file), a public key in
//! PEM, or a private key as `ww keygen` writes it, whose public half is
//! allowed; the last form lets an operator allow the key a client logs in
//! with without copying its public key around.

use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};

/// Why an `--allow-key` value names no key.
#[derive(Debug, thiserror::Error)]
pub enum AllowKeyError {
    /// Neither a public key in hex nor a readable file.
    #[error(
        "--allow-key {spec}: not a public key (64 hex digits, as `ww keygen` prints) and not a \
         readable file ({source})"
    )]
    Unreadable {
        /// The value given.
        spec: String,
        /// Why the file could not be read.
        source: std::io::Error,
    },
    /// A file whose content is not a key.
    #[error(
        "--allow-key {path}: {reason}; give public keys as 64 hex digits one a line, a PEM \
         public key, or a key file from `ww keygen`"
    )]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// The keys `spec` names: a hex public key, or a file of keys.
///
/// # Errors
///
/// When `spec` is neither a public key nor a file holding at least one.
pub fn parse(spec: &str) -> Result<Vec<VerifyingKey>, AllowKeyError> {
    if let Some(key) = from_hex(spec.trim()) {
        return Ok(vec![key]);
    }
    let path = Path::new(spec);
    let text = std::fs::read_to_string(path).map_err(|source| AllowKeyError::Unreadable {
        spec: spec.to_string(),
        source,
    })?;
    let malformed = |reason: String| AllowKeyError::Malformed {
        path: path.to_path_buf(),
        reason,
    };
    if text.contains("-----BEGIN PRIVATE KEY-----") {
        let key = SigningKey::from_pkcs8_pem(&text)
            .map_err(|e| malformed(format!("not an Ed25519 private key ({e})")))?;
        return Ok(vec![key.verifying_key()]);
    }
    if text.contains("-----BEGIN PUBLIC KEY-----") {
        let key = VerifyingKey::from_public_key_pem(&text)
            .map_err(|e| malformed(format!("not an Ed25519 public key ({e})")))?;
        return Ok(vec![key]);
    }
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        keys.push(from_hex(line).ok_or_else(|| {
            malformed(format!(
                "line {} is not an Ed25519 public key in hex",
                n + 1
            ))
        })?);
    }
    if keys.is_empty() {
        return Err(malformed("it holds no key".into()));
    }
    Ok(keys)
}

fn from_hex(text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(text).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_names_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::key::generate();
        let public = key.verifying_key();
        let hex_key = hex::encode(public.as_bytes());
        assert_eq!(parse(&hex_key).unwrap(), vec![public]);

        let private = dir.path().join("id.key");
        crate::key::write(&private, &key, false).unwrap();
        assert_eq!(parse(private.to_str().unwrap()).unwrap(), vec![public]);

        let other = crate::key::generate().verifying_key();
        let list = dir.path().join("allowed");
        std::fs::write(
            &list,
            format!(
                "# operators\n{hex_key}\n\n{}  # ci\n",
                hex::encode(other.as_bytes())
            ),
        )
        .unwrap();
        assert_eq!(parse(list.to_str().unwrap()).unwrap(), vec![public, other]);
    }

    #[test]
    fn what_is_not_a_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = parse("no-such-file").unwrap_err().to_string();
        assert!(err.contains("64 hex digits"), "{err}");
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "abcd\n").unwrap();
        let err = parse(bad.to_str().unwrap()).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "# nobody\n").unwrap();
        let err = parse(empty.to_str().unwrap()).unwrap_err().to_string();
        assert!(err.contains("holds no key"), "{err}");
    }
}
