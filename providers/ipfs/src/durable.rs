//! Writes that survive a crash: a file appears whole under its name or not
//! at all, and stays there after a power loss.
//!
//! The recipe is the one SQLite and LMDB rely on: write to a temporary
//! name in `<data-dir>/ipfs/tmp` (same file system as the store, so the
//! rename cannot become a copy), `fsync` the file, `rename` it into place,
//! `fsync` the directory that now names it. A process killed at any point
//! leaves at most a temporary file, which no reader looks at; the data
//! dir's check ([`crate::check`]) removes those of processes that are gone.
//!
//! Temporary names carry the writer's process id (`KIND-PID-N`), so a
//! check can tell the leftovers of a dead writer from the files of a live
//! one (a node or a `ww push` working on the same directory).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temporary names made by this process.
static UNIQUE: AtomicU64 = AtomicU64::new(0);

/// A fresh temporary name of `kind` in `tmp`, carrying this process's id.
pub(crate) fn temp_name(tmp: &Path, kind: &str) -> PathBuf {
    let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
    tmp.join(format!("{kind}-{}-{n}", std::process::id()))
}

/// The id of the process that made the temporary `name`, when it is one.
pub(crate) fn temp_owner(name: &str) -> Option<u32> {
    let mut parts = name.rsplitn(3, '-');
    let _n: u64 = parts.next()?.parse().ok()?;
    let pid = parts.next()?.parse().ok()?;
    parts.next()?;
    Some(pid)
}

/// Whether the process `pid` is alive (a zombie counts as gone).
pub(crate) fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name's closing parenthesis.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
            .unwrap_or(true),
        Err(_) => false,
    }
}

/// Creates `path`, writes `data` and syncs it to disk.
pub(crate) fn write_synced(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(data)?;
    file.sync_all()
}

/// Syncs `dir`, so the names created, renamed or removed in it last.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Puts `data` at `to` atomically and durably, through the temporary
/// `staging` (see the module's docs).
pub(crate) fn replace(staging: &Path, to: &Path, data: &[u8]) -> std::io::Result<()> {
    write_synced(staging, data)?;
    if let Err(e) = fs::rename(staging, to) {
        let _ = fs::remove_file(staging);
        return Err(e);
    }
    match to.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_say_whose_they_are() {
        let name = temp_name(Path::new("/t"), "batch");
        let name = name.file_name().unwrap().to_str().unwrap();
        assert_eq!(temp_owner(name), Some(std::process::id()));
        assert!(alive(std::process::id()));
        assert_eq!(temp_owner("block-x-1"), None);
        assert_eq!(temp_owner("stray"), None);
    }
}
