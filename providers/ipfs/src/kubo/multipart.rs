//! The `multipart/form-data` bodies Kubo's `add` takes: one part per file
//! (its path, percent-encoded, as the filename) and one per directory
//! (content type `application/x-directory`), parents before children.
//!
//! Written here rather than through an HTTP client's form support because
//! `addStream` must send a file whose bytes are still arriving from the
//! cell: the body is a stream of a header, the cell's writes and a trailer.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

/// The name every added tree is rooted at; `add` answers its CID under it.
pub const ROOT: &str = "root";

/// The file name a single added file is sent under.
pub const FILE: &str = "file";

/// Distinguishes boundaries made by this process.
static UNIQUE: AtomicU64 = AtomicU64::new(0);

/// A boundary no body will contain by chance (64 hex digits of a hash of
/// the time, the process and a counter).
pub fn boundary() -> String {
    let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let seed = format!("{now}-{}-{n}", std::process::id());
    format!("ww-{}", hex::encode(Sha256::digest(seed.as_bytes())))
}

/// The `Content-Type` header of a body with `boundary`.
pub fn content_type(boundary: &str) -> String {
    format!("multipart/form-data; boundary={boundary}")
}

/// The header of a file part named `path`.
pub fn file_head(boundary: &str, path: &str) -> Bytes {
    Bytes::from(format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n",
        utf8_percent_encode(path, NON_ALPHANUMERIC)
    ))
}

/// A directory part named `path`.
pub fn directory_part(boundary: &str, path: &str) -> Bytes {
    Bytes::from(format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
         Content-Type: application/x-directory\r\n\r\n\r\n",
        utf8_percent_encode(path, NON_ALPHANUMERIC)
    ))
}

/// What ends a part's data.
pub const PART_END: &[u8] = b"\r\n";

/// The end of the body.
pub fn tail(boundary: &str) -> Bytes {
    Bytes::from(format!("--{boundary}--\r\n"))
}

/// The whole body of a directory tree under [`ROOT`]: `files` are
/// `(relative path, Some(bytes))` for files and `(path, None)` for empty
/// directories. Parts come in depth-first order, each directory (implied
/// ones too) just before its contents, as Kubo's multipart reader wants.
pub fn tree(boundary: &str, files: &[(String, Option<&[u8]>)]) -> Vec<u8> {
    // Sorting by path components gives that order: a parent's components
    // are a prefix of its children's.
    let mut parts: BTreeMap<Vec<&str>, Option<&[u8]>> = BTreeMap::new();
    parts.insert(Vec::new(), None);
    for (path, data) in files {
        let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        let parents = if data.is_some() {
            components.len().saturating_sub(1)
        } else {
            components.len()
        };
        for end in 1..=parents {
            parts.entry(components[..end].to_vec()).or_insert(None);
        }
        if data.is_some() {
            parts.insert(components, *data);
        }
    }
    let mut body = Vec::new();
    for (components, data) in parts {
        let mut name = ROOT.to_string();
        for c in components {
            name.push('/');
            name.push_str(c);
        }
        match data {
            None => body.extend_from_slice(&directory_part(boundary, &name)),
            Some(data) => {
                body.extend_from_slice(&file_head(boundary, &name));
                body.extend_from_slice(data);
                body.extend_from_slice(PART_END);
            }
        }
    }
    body.extend_from_slice(&tail(boundary));
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_come_depth_first_with_implied_parents() {
        let files = [
            ("b".to_string(), Some(&b"1"[..])),
            ("a/x/y".to_string(), Some(&b"2"[..])),
            ("a-b/".to_string(), None),
        ];
        let body = String::from_utf8(tree("B", &files)).unwrap();
        let names: Vec<&str> = body
            .split("filename=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "root",
                "root%2Fa",
                "root%2Fa%2Fx",
                "root%2Fa%2Fx%2Fy",
                "root%2Fa%2Db",
                "root%2Fb"
            ]
        );
        assert!(body.ends_with("--B--\r\n"));
    }
}
