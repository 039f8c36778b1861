//! The on-disk block store: one file per block under `<data-dir>/ipfs/`.
//!
//! Blocks are keyed by their multihash (as Kubo keys them), so a CIDv0 and a
//! CIDv1 of the same bytes share one file. Two rules keep the store honest:
//!
//! - **Every read is verified.** A block whose bytes no longer hash to the
//!   CID asked for (a flipped bit on disk, a file edited by hand) is
//!   reported as [`IpfsError::Corrupt`] and removed, so it can be fetched
//!   again; it is never handed out.
//! - **Every write is atomic and durable.** A block is written to a
//!   temporary file, synced, renamed into place and its directory synced
//!   ([`crate::durable`]); an add stages all its blocks in a [`Batch`] and
//!   moves them in only once the whole DAG was built, so a failed,
//!   abandoned or killed add leaves no block that does not hash to its
//!   name, and its pin is recorded only after every block is on disk.
//!
//! Blocks no pin reaches are removed by a collection (`gc`); the
//! blocks an add in flight stages *or finds already stored* are held, so a
//! collection running meanwhile cannot take a block the add's DAG will
//! link to.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cid::Cid;
use sha2::{Digest, Sha256};

use crate::durable;
use crate::error::{IpfsError, Result};
use crate::usage::Usage;

/// The sha2-256 multihash code.
pub const SHA2_256: u64 = 0x12;

/// The identity multihash code: the "hash" is the data itself.
pub const IDENTITY: u64 = 0x00;

/// Blocks on disk.
#[derive(Clone, Debug)]
pub struct Blockstore {
    blocks: PathBuf,
    tmp: PathBuf,
    /// Keys (file names) held by adds in flight, with how many hold each.
    held: Arc<Mutex<HashMap<String, usize>>>,
    usage: Arc<Usage>,
}

/// What a sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Blocks removed.
    pub removed: usize,
    /// Blocks kept (reachable or held).
    pub kept: usize,
    /// Bytes of the blocks kept.
    pub kept_bytes: u64,
}

/// Blocks kept from collection while they are held: those of an add in
/// flight until its pin is recorded, those of a pin being fetched.
#[derive(Debug)]
pub struct Holds {
    store: Blockstore,
    keys: Vec<String>,
}

impl Holds {
    /// Keeps `cid`'s block from collection (stored yet or not) until this
    /// is dropped.
    pub fn hold(&mut self, cid: &Cid) {
        let key = Blockstore::key(cid);
        self.store.hold(key.clone());
        self.keys.push(key);
    }
}

impl Drop for Holds {
    fn drop(&mut self) {
        self.store.release(&self.keys);
    }
}

pub(crate) fn io<'a>(
    path: &'a Path,
    what: &'static str,
) -> impl FnOnce(std::io::Error) -> IpfsError + 'a {
    move |source| IpfsError::Store {
        path: path.to_path_buf(),
        what,
        source,
    }
}

/// Checks that `data` hashes to `cid`'s multihash.
///
/// # Errors
///
/// [`IpfsError::Corrupt`] on a mismatch, [`IpfsError::UnsupportedHash`]
/// for a hash function other than sha2-256 or identity.
pub fn verify(cid: &Cid, data: &[u8]) -> Result<()> {
    let hash = cid.hash();
    let ok = match hash.code() {
        SHA2_256 => Sha256::digest(data).as_slice() == hash.digest(),
        IDENTITY => hash.digest() == data,
        code => {
            return Err(IpfsError::UnsupportedHash {
                cid: cid.to_string(),
                code,
            })
        }
    };
    if ok {
        Ok(())
    } else {
        Err(IpfsError::Corrupt {
            cid: cid.to_string(),
            detail: "refused".into(),
        })
    }
}

impl Blockstore {
    /// Opens (creating if needed) the store under `dir` (the node's data
    /// directory; blocks go to `dir/ipfs/blocks`).
    ///
    /// # Errors
    ///
    /// When the directories cannot be created.
    pub fn open(dir: &Path) -> Result<Blockstore> {
        let root = dir.join("ipfs");
        let blocks = root.join("blocks");
        let tmp = root.join("tmp");
        fs::create_dir_all(&blocks).map_err(io(&blocks, "creating the directory"))?;
        fs::create_dir_all(&tmp).map_err(io(&tmp, "creating the directory"))?;
        Ok(Blockstore {
            blocks,
            tmp,
            held: Arc::default(),
            usage: Arc::default(),
        })
    }

    /// The data directory this store is in.
    pub fn data_dir(&self) -> &Path {
        // `<data-dir>/ipfs/blocks`, made so by `open`.
        self.blocks
            .parent()
            .and_then(Path::parent)
            .unwrap_or(&self.blocks)
    }

    /// How many bytes the store holds (counted only once
    /// [`Blockstore::measure`] ran), and when it is over its limit.
    pub fn usage(&self) -> &Arc<Usage> {
        &self.usage
    }

    /// Counts the bytes stored (one walk) and sets the limit past which
    /// [`Usage`] asks for a collection.
    ///
    /// # Errors
    ///
    /// When the store's directories cannot be listed.
    pub fn measure(&self, max: u64) -> Result<u64> {
        self.usage.limit_to(max);
        let mut bytes = 0;
        self.each_block(|_, size| {
            bytes += size;
            Ok(())
        })?;
        self.usage.measured(bytes);
        Ok(bytes)
    }

    /// Keys held from collection, released on drop.
    pub fn holds(&self) -> Holds {
        Holds {
            store: self.clone(),
            keys: Vec::new(),
        }
    }

    /// The key (file name) `cid`'s block is stored under: its multihash
    /// in hex, shared by its CIDv0 and CIDv1.
    pub fn key(cid: &Cid) -> String {
        hex::encode(cid.hash().to_bytes())
    }

    /// Where the block for `cid` lives (whether or not it is there).
    pub fn path_of(&self, cid: &Cid) -> PathBuf {
        let key = Self::key(cid);
        // The last characters vary most (the first are the multihash code).
        let shard = &key[key.len() - 2..];
        self.blocks.join(shard).join(key)
    }

    /// Whether the block is stored (identity CIDs always are).
    pub fn has(&self, cid: &Cid) -> bool {
        cid.hash().code() == IDENTITY || self.path_of(cid).is_file()
    }

    /// The verified bytes of `cid`, or `None` when it is not stored.
    ///
    /// # Errors
    ///
    /// [`IpfsError::Corrupt`] when the stored bytes do not hash to `cid`
    /// (the bad file is removed), or an I/O error.
    pub fn get(&self, cid: &Cid) -> Result<Option<Vec<u8>>> {
        if cid.hash().code() == IDENTITY {
            return Ok(Some(cid.hash().digest().to_vec()));
        }
        let path = self.path_of(cid);
        let data = match fs::read(&path) {
            Ok(data) => data,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path, "reading a block")(e)),
        };
        match verify(cid, &data) {
            Ok(()) => Ok(Some(data)),
            Err(IpfsError::Corrupt { cid, .. }) => {
                let removed = fs::remove_file(&path).is_ok();
                tracing::warn!(%cid, path = %path.display(), "corrupt block in the store");
                Err(IpfsError::Corrupt {
                    cid,
                    detail: format!(
                        "found in {}; {}",
                        path.display(),
                        if removed {
                            "removed it, so it can be fetched or added again"
                        } else {
                            "could not remove it: delete the file by hand"
                        }
                    ),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Verifies and stores one block (e.g. received from a peer).
    ///
    /// # Errors
    ///
    /// [`IpfsError::Corrupt`] when `data` does not hash to `cid` (nothing is
    /// written), or an I/O error.
    pub fn put(&self, cid: &Cid, data: &[u8]) -> Result<()> {
        verify(cid, data)?;
        if self.has(cid) {
            return Ok(());
        }
        let tmp = self.temp_name("block");
        write_whole(&tmp, data)?;
        let shard = self.move_in(&tmp, cid)?;
        durable::sync_dir(&shard).map_err(io(&shard, "syncing a shard directory"))
    }

    /// A new batch: blocks written to it appear in the store together, on
    /// [`Batch::commit`], or not at all.
    ///
    /// # Errors
    ///
    /// When the staging directory cannot be created.
    pub fn batch(&self) -> Result<Batch> {
        let dir = self.temp_name("batch");
        fs::create_dir(&dir).map_err(io(&dir, "creating a staging directory"))?;
        Ok(Batch {
            store: self.clone(),
            dir,
            staged: Vec::new(),
            holds: self.holds(),
            committed: false,
        })
    }

    /// The keys adds and pins in flight hold; while this guard lives, none
    /// is released (so no pin recorded meanwhile goes unseen by a sweep).
    pub(crate) fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        // A panic while holding the lock leaves a usable map.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn hold(&self, key: String) {
        *self.held().entry(key).or_default() += 1;
    }

    fn release(&self, keys: &[String]) {
        let mut held = self.held();
        for key in keys {
            if let Some(n) = held.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    held.remove(key);
                }
            }
        }
    }

    /// Calls `f` with the path and size of every file in the store.
    fn each_block(&self, mut f: impl FnMut(&Path, u64) -> Result<()>) -> Result<()> {
        let shards = fs::read_dir(&self.blocks).map_err(io(&self.blocks, "listing blocks"))?;
        for shard in shards {
            let shard = shard.map_err(io(&self.blocks, "listing blocks"))?.path();
            if !shard.is_dir() {
                continue;
            }
            for block in fs::read_dir(&shard).map_err(io(&shard, "listing blocks"))? {
                let block = block.map_err(io(&shard, "listing blocks"))?;
                // Removed meanwhile: nothing to count.
                let size = block.metadata().map(|m| m.len()).unwrap_or(0);
                f(&block.path(), size)?;
            }
        }
        Ok(())
    }

    /// Removes every stored block whose key is not in `keep` and that no
    /// add or pin in flight holds (the caller marked `keep` beforehand; a
    /// collection marks under the lock instead, see `gc`).
    ///
    /// # Errors
    ///
    /// When the store's directories cannot be read or a block not removed.
    pub fn sweep(&self, keep: &HashSet<String>) -> Result<Swept> {
        self.sweep_held(self.held(), keep)
    }

    /// [`Blockstore::sweep`] under `held`, [`Blockstore::held`]'s guard, taken
    /// before the last marking and kept for the whole sweep, so an add
    /// can neither start holding a block between the check and the
    /// removal nor stop holding one whose pin the marking missed.
    ///
    /// # Errors
    ///
    /// When the store's directories cannot be read or a block not removed.
    pub(crate) fn sweep_held(
        &self,
        held: std::sync::MutexGuard<'_, HashMap<String, usize>>,
        keep: &HashSet<String>,
    ) -> Result<Swept> {
        let mut swept = Swept::default();
        self.each_block(|path, size| {
            let Some(key) = path.file_name().and_then(|n| n.to_str()) else {
                return Ok(());
            };
            if keep.contains(key) || held.contains_key(key) {
                swept.kept += 1;
                swept.kept_bytes += size;
                return Ok(());
            }
            match fs::remove_file(path) {
                Ok(()) => swept.removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(path, "removing a block")(e)),
            }
            Ok(())
        })?;
        drop(held);
        self.usage.measured(swept.kept_bytes);
        Ok(swept)
    }

    fn temp_name(&self, kind: &str) -> PathBuf {
        durable::temp_name(&self.tmp, kind)
    }

    /// Renames the synced file `from` into place as `cid`'s block; returns
    /// the shard directory, which the caller syncs (once for a batch).
    fn move_in(&self, from: &Path, cid: &Cid) -> Result<PathBuf> {
        let to = self.path_of(cid);
        let shard = to.parent().unwrap_or(&self.blocks).to_path_buf();
        if !shard.is_dir() {
            fs::create_dir_all(&shard).map_err(io(&shard, "creating a shard directory"))?;
            durable::sync_dir(&self.blocks).map_err(io(&self.blocks, "syncing the store"))?;
        }
        let size = fs::metadata(from).map(|m| m.len()).unwrap_or(0);
        fs::rename(from, &to).map_err(io(&to, "moving a block into place"))?;
        self.usage.grew(size);
        Ok(shard)
    }
}

/// Writes a whole file and syncs it, so that once renamed into place it is
/// the block's bytes even after a power loss.
fn write_whole(path: &Path, data: &[u8]) -> Result<()> {
    durable::write_synced(path, data).map_err(io(path, "writing a block"))
}

/// Blocks staged for one add; dropped without [`commit`](Batch::commit),
/// they are deleted.
#[derive(Debug)]
pub struct Batch {
    store: Blockstore,
    dir: PathBuf,
    staged: Vec<(Cid, PathBuf)>,
    /// Keys this add holds against collection (staged or already stored).
    holds: Holds,
    committed: bool,
}

impl Batch {
    /// Stages `data` as the block `cid` (verified first).
    ///
    /// # Errors
    ///
    /// A hash mismatch or an I/O error.
    pub fn put(&mut self, cid: &Cid, data: &[u8]) -> Result<()> {
        verify(cid, data)?;
        if cid.hash().code() == IDENTITY {
            return Ok(());
        }
        self.holds.hold(cid);
        if self.store.has(cid) {
            return Ok(());
        }
        let path = self.dir.join(self.staged.len().to_string());
        write_whole(&path, data)?;
        self.staged.push((*cid, path));
        Ok(())
    }

    /// Hands every staged block to `other`, to be committed with it.
    ///
    /// # Errors
    ///
    /// An I/O error moving a staged file.
    pub fn commit_into(mut self, other: &mut Batch) -> Result<()> {
        for (cid, path) in std::mem::take(&mut self.staged) {
            let to = other.dir.join(other.staged.len().to_string());
            fs::rename(&path, &to).map_err(io(&to, "moving a staged block"))?;
            other.staged.push((cid, to));
        }
        // The holds go with the blocks.
        other.holds.keys.append(&mut self.holds.keys);
        self.committed = true;
        Ok(())
    }

    /// Moves every staged block into the store.
    ///
    /// # Errors
    ///
    /// An I/O error; blocks moved before it stay (each is whole and
    /// verified), the rest are deleted with the batch.
    pub fn commit(self) -> Result<()> {
        self.commit_then(|| Ok(()))
    }

    /// [`commit`](Batch::commit)s, then runs `then` (recording the pin of
    /// the DAG) while the blocks are still held, so no collection can take
    /// them between the two.
    ///
    /// # Errors
    ///
    /// As [`commit`](Batch::commit), or `then`'s error.
    pub fn commit_then(mut self, then: impl FnOnce() -> Result<()>) -> Result<()> {
        let mut shards = BTreeSet::new();
        for (cid, path) in std::mem::take(&mut self.staged) {
            shards.insert(self.store.move_in(&path, &cid)?);
        }
        // Durable before the caller records a pin of the DAG.
        for shard in shards {
            durable::sync_dir(&shard).map_err(io(&shard, "syncing a shard directory"))?;
        }
        self.committed = true;
        then()
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        if !self.committed {
            tracing::debug!(blocks = self.staged.len(), "discarding an unfinished add");
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}
