//! `/ipfs/<cid>[/sub/path]`: the paths cells give `cat` and `ls`.

use cid::Cid;

use crate::error::{IpfsError, Result};

/// A parsed IPFS path: a root CID and the names below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpfsPath {
    /// The root.
    pub root: Cid,
    /// Directory entries to walk from the root, in order.
    pub segments: Vec<String>,
}

impl IpfsPath {
    /// Parses `/ipfs/<cid>[/sub/path]`, `<cid>[/sub/path]` or `ipfs://<cid>`.
    ///
    /// # Errors
    ///
    /// [`IpfsError::BadPath`] for an empty path, an `/ipns/` name, or a
    /// root that is not a CID.
    pub fn parse(input: &str) -> Result<IpfsPath> {
        let bad = |reason: &str| IpfsError::BadPath {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        // Only leading whitespace goes: a name may end in whitespace
        // (`notes ` is another entry than `notes`), so trimming the end
        // would make `/ipfs/<cid>/notes ` name `notes`, and the path would
        // not print as what it names. The CID's own trailing whitespace is
        // trimmed by `parse_cid`.
        let text = input.trim_start();
        if text.starts_with("/ipns/") {
            return Err(bad("IPNS names need an IPFS daemon"));
        }
        let text = text
            .strip_prefix("/ipfs/")
            .or_else(|| text.strip_prefix("ipfs://"))
            .unwrap_or(text);
        let mut parts = text.split('/').filter(|s| !s.is_empty());
        let root = parts.next().ok_or_else(|| bad("it names no CID"))?;
        let root = parse_cid(root).map_err(|e| bad(&e))?;
        let segments = parts.map(str::to_string).collect();
        Ok(IpfsPath { root, segments })
    }
}

/// Parses a CID, saying why not in words.
///
/// # Errors
///
/// The reason `text` is not a CID.
pub fn parse_cid(text: &str) -> Result<Cid, String> {
    Cid::try_from(text.trim()).map_err(|e| format!("`{text}` is not a CID: {e}"))
}

impl std::fmt::Display for IpfsPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "/ipfs/{}", self.root)?;
        for s in &self.segments {
            write!(f, "/{s}")?;
        }
        Ok(())
    }
}
