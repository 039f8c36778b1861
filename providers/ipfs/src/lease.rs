//! Who may change a data directory's store at once.
//!
//! Nodes and `ww push` write the store side by side, which is safe (every
//! write is atomic, and a pin follows its blocks); each holds a *shared*
//! lease (an advisory `flock` on `<data-dir>/ipfs/lock`) while it writes.
//! A repair or a collection run from outside a node (`ww check --repair`,
//! `--gc`) removes files other writers may be about to link to, so it
//! takes the lease *exclusively* and is refused while anyone else holds
//! it. The kernel drops a lease when its holder dies, however it dies.

use std::fs::{self, File, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{IpfsError, Result};

/// A held lease on a data directory's store; released on drop.
#[derive(Debug)]
pub struct Lease {
    _file: File,
}

fn lock_file(data_dir: &Path) -> Result<(File, PathBuf)> {
    let dir = data_dir.join("ipfs");
    fs::create_dir_all(&dir).map_err(|source| IpfsError::Store {
        path: dir.clone(),
        what: "creating the directory",
        source,
    })?;
    let path = dir.join("lock");
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
}
