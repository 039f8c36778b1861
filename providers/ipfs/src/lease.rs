//! Who may change a data directory's store at once.
//!
//! Nodes and `ww push` write the store side by side, which is safe (every
//! write is atomic, and a pin follows its blocks); each holds a *shared*
//! lease (an advisory `flock` on `<data-dir>/ipfs/lock`) while it writes.
//! A repair or a collection run from outside a node (`ww check --repair`,
//! `--gc`) removes files other writers may be about to link to, so it
//! takes the lease *exclusively* and is refused while anyone else holds
//! it. The kernel drops a lease when its holder dies, however it dies.
//!
//! A node's own collection (at an unpin, or past `ipfs-store-max`) knows
//! which blocks its own adds hold, not those of a `ww push` in another
//! process; so a push also holds `ipfs/gc.lock` shared from its first
//! block to its pin ([`Lease::adding`]), and a node collects only when it
//! can take that lock exclusively ([`Lease::collecting`]), else later.

use std::fs::{self, File, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{IpfsError, Result};

/// A held lease on a data directory's store; released on drop.
#[derive(Debug)]
pub struct Lease {
    _file: File,
}

fn lock_file(data_dir: &Path) -> Result<(File, PathBuf)> {
    named(data_dir, "lock")
}

fn named(data_dir: &Path, name: &str) -> Result<(File, PathBuf)> {
    let dir = data_dir.join("ipfs");
    fs::create_dir_all(&dir).map_err(|source| IpfsError::Store {
        path: dir.clone(),
        what: "creating the directory",
        source,
    })?;
    let path = dir.join(name);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| IpfsError::Store {
            path: path.clone(),
            what: "opening the lock file",
            source,
        })?;
    Ok((file, path))
}

fn refused(
    path: PathBuf,
    result: std::result::Result<(), TryLockError>,
    busy: IpfsError,
) -> Result<()> {
    match result {
        Ok(()) => Ok(()),
        Err(TryLockError::WouldBlock) => Err(busy),
        Err(TryLockError::Error(source)) => Err(IpfsError::Store {
            path,
            what: "locking the store",
            source,
        }),
    }
}

impl Lease {
    /// A lease for writing beside other writers (a node, `ww push`).
    ///
    /// # Errors
    ///
    /// [`IpfsError::Busy`] while a repair or collection holds the store.
    pub fn shared(data_dir: &Path) -> Result<Lease> {
        let (file, path) = lock_file(data_dir)?;
        let busy = IpfsError::Busy {
            dir: data_dir.to_path_buf(),
            holder: "`ww check --repair` or `--gc`",
        };
        refused(path, file.try_lock_shared(), busy)?;
        Ok(Lease { _file: file })
    }

    /// The only lease: nobody else writes the store while it is held.
    ///
    /// # Errors
    ///
    /// [`IpfsError::Busy`] while a node, a `ww push` or another check
    /// holds a lease.
    pub fn exclusive(data_dir: &Path) -> Result<Lease> {
        let (file, path) = lock_file(data_dir)?;
        let busy = IpfsError::Busy {
            dir: data_dir.to_path_buf(),
            holder: "a running node, a `ww push` or another `ww check`",
        };
        refused(path, file.try_lock(), busy)?;
        Ok(Lease { _file: file })
    }

    /// Held by an add in another process than the node's (`ww push`)
    /// until its pin is recorded; waits while a node collects.
    ///
    /// # Errors
    ///
    /// When the lock file cannot be opened or locked.
    pub fn adding(data_dir: &Path) -> Result<Lease> {
        let (file, path) = named(data_dir, "gc.lock")?;
        file.lock_shared().map_err(|source| IpfsError::Store {
            path,
            what: "locking the store for an add",
            source,
        })?;
        Ok(Lease { _file: file })
    }

    /// A node's right to collect now, or `None` while another process
    /// adds (the collection is then left for later).
    ///
    /// # Errors
    ///
    /// When the lock file cannot be opened or locked.
    pub fn collecting(data_dir: &Path) -> Result<Option<Lease>> {
        let (file, path) = named(data_dir, "gc.lock")?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Lease { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(source)) => Err(IpfsError::Store {
                path,
                what: "locking the store for a collection",
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_share_and_a_repair_waits_for_all_of_them() {
        let dir = tempfile::tempdir().unwrap();
        let a = Lease::shared(dir.path()).unwrap();
        let b = Lease::shared(dir.path()).unwrap();
        let err = Lease::exclusive(dir.path()).unwrap_err();
        assert!(err.to_string().contains("running node"), "{err}");
        drop((a, b));
        let repair = Lease::exclusive(dir.path()).unwrap();
        let err = Lease::shared(dir.path()).unwrap_err();
        assert!(err.to_string().contains("ww check --repair"), "{err}");
        drop(repair);
        Lease::shared(dir.path()).unwrap();
    }

    #[test]
    fn a_collection_waits_for_adds_in_other_processes() {
        let dir = tempfile::tempdir().unwrap();
        let push = Lease::adding(dir.path()).unwrap();
        assert!(Lease::collecting(dir.path()).unwrap().is_none());
        drop(push);
        let collection = Lease::collecting(dir.path()).unwrap();
        assert!(collection.is_some());
    }
}
