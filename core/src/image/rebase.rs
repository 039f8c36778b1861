//! A base layer that can be replaced under a running node (`--stem`).
//!
//! With `ww run --stem ADDR OVERLAY…` the image is the adopted head's tree
//! (the base) with the operator's layers on top, later wins per file. When
//! the Atom moves, the node swaps the base and keeps running: cells already
//! running, pid0 included, hold their preopened `/` open, and the cell
//! runtime resolves paths for new cells under the same root. So the swap
//! updates the live root **in place** instead of assembling a new root
//! somewhere else: pid0's PATH lookups and file reads, a cell that grafts
//! again, a child spawned later, all see the new base's files.
//!
//! The new union is assembled first, next to the live root (same file
//! system), where every failure of reading or merging happens; the live root
//! is touched only once that succeeded. Then each file is renamed into place
//! (a rename replaces a file atomically, so a reader sees the old file or
//! the new one, never half of one) and what the new union lacks is removed.
//! The swap as a whole is not atomic: during it a cell may see some files
//! of the new union and some of the old. The epoch advances only after the
//! swap, so whoever grafts again in the new epoch sees the complete tree.
//! If the swap fails midway, the previous base is swapped back.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::{Image, ImageError};

/// A local copy of a base layer (a fetched head), removed once it is no
/// longer the base.
#[derive(Debug)]
pub struct Base {
    tree: PathBuf,
    _dir: Option<TempDir>,
}

impl Base {
    /// The tree at `tree`, kept alive by `dir` when given (it is removed
    /// with it), else removed itself when replaced.
    pub fn new(tree: PathBuf, dir: Option<TempDir>) -> Base {
        Base { tree, _dir: dir }
    }

    /// Where the tree is.
    pub fn tree(&self) -> &Path {
        &self.tree
    }

    fn remove(self) {
        if let Err(e) = fs::remove_dir_all(&self.tree) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::debug!(
                    "cannot remove the replaced base {}: {e}",
                    self.tree.display()
                );
            }
        }
    }
}

/// What a swap left behind: the staging directory and the previous base's
/// copy, both removed when this is dropped.
#[derive(Debug)]
pub struct Replaced {
    _staged: Image,
    old: Option<Base>,
}

impl Drop for Replaced {
    fn drop(&mut self) {
        if let Some(old) = self.old.take() {
            old.remove();
        }
    }
}

/// An image whose base layer can be replaced while cells run.
#[derive(Debug)]
pub struct Rebasable {
    image: Image,
    overlays: Vec<String>,
    base: Option<Base>,
    // Local copies of IPFS overlays, merged again at every swap.
    _fetched: Option<TempDir>,
}

impl Rebasable {
    /// `image`, merged from `base` (when there is one) and then `overlays`
    /// (local layer arguments, in order). `fetched` keeps local copies the
    /// overlays refer to.
    ///
    /// # Errors
    ///
    /// [`ImageError::InPlace`] when the image is a layer used in place: a
    /// swap would write into the operator's own directory.
    pub fn new(
        image: Image,
        base: Option<Base>,
        overlays: Vec<String>,
        fetched: Option<TempDir>,
    ) -> Result<Rebasable, ImageError> {
        if image._scratch.is_none() {
            return Err(ImageError::InPlace {
                root: image.root.clone(),
            });
        }
        Ok(Rebasable {
            image,
            overlays,
            base,
            _fetched: fetched,
        })
    }

    /// The live root every cell sees.
    pub fn root(&self) -> &Path {
        self.image.root()
    }

    /// The host path of `boot/main.wasm` in the live root.
    pub fn boot(&self) -> PathBuf {
        self.image.boot()
    }

    /// The current base, if any.
    pub fn base(&self) -> Option<&Path> {
        self.base.as_ref().map(Base::tree)
    }

    /// Replaces the base with `base`, keeping the overlays on top. The
    /// previous base's copy and the staging directory are removed when the
    /// returned [`Replaced`] is dropped: after the epoch advanced, so the
    /// clean-up is not on the path to revocation.
    ///
    /// # Errors
    ///
    /// The new union cannot be assembled (a layer gone, no
    /// `boot/main.wasm` in it, an I/O error): the live root is untouched.
    /// The live root cannot be updated: the previous base is swapped back
    /// (when that fails too, the error says so).
    pub fn rebase(&mut self, base: Base) -> Result<Replaced, ImageError> {
        let staged = self.stage(Some(base.tree()))?;
        if let Err(e) = sync(staged.root(), self.root()) {
            let swapped_back = match self.stage(self.base()) {
                Ok(old) => sync(old.root(), self.root()).is_ok(),
                Err(_) => false,
            };
            return Err(ImageError::Swap {
                root: self.root().to_path_buf(),
                source: e,
                swapped_back,
            });
        }
        let old = self.base.replace(base);
        Ok(Replaced {
            _staged: staged,
            old,
        })
    }

    /// The union of `base` and the overlays, assembled beside the live
    /// root (the same file system, so its files can be renamed into it).
    fn stage(&self, base: Option<&Path>) -> Result<Image, ImageError> {
        let beside = self.root().parent().unwrap_or(Path::new("."));
        let mut layers: Vec<String> = base.iter().map(|b| b.display().to_string()).collect();
        layers.extend(self.overlays.iter().cloned());
        let union = tempfile::Builder::new()
            .prefix(".ww-rebase-")
            .tempdir_in(beside)
            .map_err(|source| ImageError::Io {
                layer: layers.first().cloned().unwrap_or_default(),
                path: beside.to_path_buf(),
                source,
            })?;
        Image::assemble_into(&layers, union)
    }
}

/// Makes `live` hold what `from` holds: entries are renamed from `from`
/// into `live` (files replaced atomically one by one), then what `live` has
/// beyond them is removed.
fn sync(from: &Path, live: &Path) -> io::Result<()> {
    let mut names: HashSet<OsString> = HashSet::new();
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let src = entry.path();
        let dest = live.join(&name);
        names.insert(name);
        let existing = fs::symlink_metadata(&dest).ok();
        if entry.file_type()?.is_dir() {
            match existing {
                Some(meta) if meta.is_dir() => {}
                Some(_) => {
                    fs::remove_file(&dest)?;
                    fs::create_dir(&dest)?;
                }
                None => fs::create_dir(&dest)?,
            }
            sync(&src, &dest)?;
        } else {
            if existing.is_some_and(|m| m.is_dir()) {
                fs::remove_dir_all(&dest)?;
            }
            fs::rename(&src, &dest)?;
        }
    }
    for entry in fs::read_dir(live)? {
        let entry = entry?;
        if names.contains(&entry.file_name()) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        } else {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}
