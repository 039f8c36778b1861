//! The persisted cursor: how far the stem has finalized, so a restart
//! neither replays an adopted update nor skips one.
//!
//! `block` is the highest block whose updates are all settled (adopted or
//! dropped); a restart backfills from `block + 1`. `seq` and `cid` are the
//! last adopted head; an update with a `seq` at or below it is never adopted
//! again. The file is JSON, written to a temporary file, synced, renamed and
//! its directory synced, so a crash (or a power loss) leaves the old cursor
//! or the new one, never half of one.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::StemError;

/// How far the stem got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Every update in blocks up to this one is settled.
    pub block: u64,
    /// The last adopted head's seq (0: none yet).
    pub seq: u64,
    /// The last adopted head's CID (binary; empty: none yet).
    pub cid: Vec<u8>,
}

/// Where a cursor lives, and which Atom it belongs to.
#[derive(Clone, Debug)]
pub struct CursorFile {
    path: PathBuf,
    chain_id: u64,
    atom: String,
}

impl CursorFile {
    /// The cursor at `path` for the Atom `atom` on chain `chain_id`.
    pub fn new(path: PathBuf, chain_id: u64, atom: String) -> CursorFile {
        CursorFile {
            path,
            chain_id,
            atom,
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, reason: impl std::fmt::Display) -> StemError {
        StemError::Cursor {
            path: self.path.display().to_string(),
            reason: reason.to_string(),
        }
    }

    /// The saved cursor, or `None` when there is none yet.
    ///
    /// # Errors
    ///
    /// The file exists but cannot be read, is not a cursor, or belongs to
    /// another Atom or chain (remove it, or give another path).
    pub fn load(&self) -> Result<Option<Cursor>, StemError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(e)),
        };
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| self.error(format!("not a cursor ({e}); remove it to start afresh")))?;
        let field = |name: &str| {
            value
                .get(name)
                .ok_or_else(|| self.error(format!("no `{name}`")))
        };
        let chain_id = field("chain_id")?.as_u64();
        let atom = field("atom")?.as_str().map(str::to_string);
        if chain_id != Some(self.chain_id) || atom.as_deref() != Some(self.atom.as_str()) {
            return Err(self.error(format!(
                "belongs to Atom {} on chain {}, not {} on chain {}; give this stem its own --stem-cursor",
                atom.unwrap_or_default(),
                chain_id.unwrap_or_default(),
                self.atom,
                self.chain_id
            )));
        }
        let number = |name: &str| {
            field(name)?
                .as_u64()
                .ok_or_else(|| self.error(format!("`{name}` is not a number")))
        };
        let cid = field("cid")?
            .as_str()
            .and_then(|s| hex::decode(s).ok())
            .ok_or_else(|| self.error("`cid` is not hex"))?;
        Ok(Some(Cursor {
            block: number("block")?,
            seq: number("seq")?,
            cid,
        }))
    }

    /// Saves `cursor` atomically.
    ///
    /// # Errors
    ///
    /// The directory cannot be created or the file written.
    pub fn save(&self, cursor: &Cursor) -> Result<(), StemError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| self.error(e))?;
        }
        let text = json!({
            "chain_id": self.chain_id,
            "atom": self.atom,
            "block": cursor.block,
            "seq": cursor.seq,
            "cid": hex::encode(&cursor.cid),
        })
        .to_string();
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        write_synced(Path::new(&tmp), text.as_bytes()).map_err(|e| self.error(e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| self.error(e))?;
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.error(e))
    }
}

/// Creates `path` with `data`, synced to disk before it is renamed into
/// place.
fn write_synced(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    file.write_all(data)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_cursor_loads_back_and_another_atoms_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/cursor.json");
        let file = CursorFile::new(path.clone(), 31337, "0xabc".into());
        assert_eq!(file.load().unwrap(), None);
        let cursor = Cursor {
            block: 42,
            seq: 3,
            cid: vec![1, 2, 3],
        };
        file.save(&cursor).unwrap();
        assert_eq!(file.load().unwrap(), Some(cursor));
        let other = CursorFile::new(path.clone(), 31337, "0xdef".into());
        let err = other.load().unwrap_err().to_string();
        assert!(err.contains("belongs to Atom 0xabc"), "{err}");
        std::fs::write(&path, "garbage").unwrap();
        let err = file.load().unwrap_err().to_string();
        assert!(err.contains("not a cursor"), "{err}");
    }

    #[test]
    fn a_write_cut_short_leaves_the_previous_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cursor.json");
        let file = CursorFile::new(path.clone(), 1, "0xabc".into());
        let first = Cursor {
            block: 7,
            seq: 1,
            cid: vec![9],
        };
        file.save(&first).unwrap();
        // What a writer killed before its rename leaves: half a file
        // beside the cursor, never in its place.
        std::fs::write(
            dir.path().join("cursor.json.tmp"),
            "{\"chain_id\": 1, \"blo",
        )
        .unwrap();
        assert_eq!(file.load().unwrap(), Some(first));
        let next = Cursor {
            block: 8,
            seq: 2,
            cid: vec![10],
        };
        file.save(&next).unwrap();
        assert_eq!(file.load().unwrap(), Some(next));
        assert!(!dir.path().join("cursor.json.tmp").exists());
    }
}
