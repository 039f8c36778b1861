//! Adding files and directories: UnixFS DAGs built exactly as Kubo's
//! `ipfs add` builds them, so the same bytes get the same CID.
//!
//! The DAG shape comes from `rust-unixfs`: 256 KiB fixed-size chunks, a
//! balanced tree of at most 174 links per node, dag-pb leaves under CIDv0
//! (Kubo's default) or raw leaves when asked. Blocks are staged in a
//! [`Batch`] and reach the store only when the whole DAG is built.

use cid::{Cid, Version};
use rust_unixfs::dir::builder::{BufferingTreeBuilder, TreeOptions};
use rust_unixfs::file::adder::FileAdder;

use crate::blockstore::{Batch, Blockstore};
use crate::error::{IpfsError, Result};

/// How an add builds its DAG; the default is Kubo's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddOptions {
    /// CIDv0 (base58 `Qm…`) or CIDv1.
    pub cid_version: Version,
    /// File chunks as raw blocks instead of dag-pb nodes.
    pub raw_leaves: bool,
}

impl Default for AddOptions {
    fn default() -> Self {
        AddOptions {
            cid_version: Version::V0,
            raw_leaves: false,
        }
    }
}

impl AddOptions {
    /// From the schema's `(cidVersion, rawLeaves)`.
    ///
    /// # Errors
    ///
    /// A CID version other than 0 or 1, or raw leaves under CIDv0 (a CIDv0
    /// can only name dag-pb).
    pub fn new(cid_version: u8, raw_leaves: bool) -> Result<AddOptions> {
        let cid_version = match cid_version {
            0 => Version::V0,
            1 => Version::V1,
            n => {
                return Err(IpfsError::BadAdd(format!(
                    "CID version {n} does not exist; use 0 or 1"
                )))
            }
        };
        if cid_version == Version::V0 && raw_leaves {
            return Err(IpfsError::BadAdd(
                "raw leaves need CIDv1 (a CIDv0 can only name dag-pb); set cidVersion 1".into(),
            ));
        }
        Ok(AddOptions {
            cid_version,
            raw_leaves,
        })
    }
}

/// One file being added, fed in pieces.
pub struct FileImport {
    adder: FileAdder,
    batch: Batch,
    /// Sum of the sizes of every block made: the root link's Tsize.
    dag_size: u64,
    /// The last block made: the root once the file ends (a file of exactly
    /// one chunk is finished by the push that fills the chunk).
    last: Option<Cid>,
}

impl std::fmt::Debug for FileImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileImport")
            .field("dag_size", &self.dag_size)
            .finish_non_exhaustive()
    }
}

impl FileImport {
    /// Starts a file whose blocks will go to `store`.
    ///
    /// # Errors
    ///
    /// When the staging area cannot be created.
    pub fn new(store: &Blockstore, options: AddOptions) -> Result<FileImport> {
        let adder = FileAdder::builder()
            .with_cid_version(options.cid_version)
            .with_raw_leaves(options.raw_leaves)
            .build();
        Ok(FileImport {
            adder,
            batch: store.batch()?,
            dag_size: 0,
            last: None,
        })
    }

    /// Appends `data` to the file.
    ///
    /// # Errors
    ///
    /// When a block cannot be staged.
    pub fn write(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let (blocks, consumed) = self.adder.push(data);
            for (cid, block) in blocks {
                self.dag_size += block.len() as u64;
                self.batch.put(&cid, &block)?;
                self.last = Some(cid);
            }
            data = &data[consumed..];
        }
        Ok(())
    }

    /// Ends the file: its root CID, its DAG size (Tsize) and its blocks,
    /// staged but not yet in the store.
    ///
    /// # Errors
    ///
    /// When a block cannot be staged.
    pub fn finish(mut self) -> Result<(Cid, u64, Batch)> {
        for (cid, block) in self.adder.finish() {
            self.dag_size += block.len() as u64;
            self.batch.put(&cid, &block)?;
            self.last = Some(cid);
        }
        let root = self
            .last
            .ok_or_else(|| IpfsError::BadAdd("the importer made no root".into()))?;
        Ok((root, self.dag_size, self.batch))
    }
}

/// Adds `data` as one file and returns its CID.
///
/// # Errors
///
/// When the store cannot be written (nothing of the file is left in it).
pub fn add_bytes(store: &Blockstore, data: &[u8], options: AddOptions) -> Result<Cid> {
    add_bytes_then(store, data, options, |_| Ok(()))
}

/// [`add_bytes`], running `then` with the CID (to pin it) before the
/// blocks stop being held against collection.
///
/// # Errors
///
/// As [`add_bytes`], or `then`'s error.
pub fn add_bytes_then(
    store: &Blockstore,
    data: &[u8],
    options: AddOptions,
    then: impl FnOnce(&Cid) -> Result<()>,
) -> Result<Cid> {
    let mut import = FileImport::new(store, options)?;
    import.write(data)?;
    let (cid, _, batch) = import.finish()?;
    batch.commit_then(|| then(&cid))?;
    Ok(cid)
}

/// One entry of a directory being added.
#[derive(Clone, Copy, Debug)]
pub enum Entry<'a> {
    /// A file with these bytes.
    File(&'a [u8]),
    /// An empty directory (others are implied by their files' paths).
    EmptyDirectory,
}

/// The dag-pb bytes of an empty UnixFS directory (`Data { Type: Directory }`).
const EMPTY_DIRECTORY: &[u8] = &[0x0a, 0x02, 0x08, 0x01];

/// Adds a directory tree of `entries` (paths relative to its root, `/`
/// separated) and returns the root's CID, as `ipfs add -r` of that
/// directory would.
///
/// # Errors
///
/// An empty, absolute or `..` path, the same path twice, or a store that
/// cannot be written; nothing is left in the store then.
pub fn add_directory(
    store: &Blockstore,
    entries: &[(String, Entry<'_>)],
    options: AddOptions,
) -> Result<Cid> {
    add_directory_then(store, entries, options, |_| Ok(()))
}

/// [`add_directory`], running `then` with the root's CID (to pin it)
/// before the blocks stop being held against collection.
///
/// # Errors
///
/// As [`add_directory`], or `then`'s error.
pub fn add_directory_then(
    store: &Blockstore,
    entries: &[(String, Entry<'_>)],
    options: AddOptions,
    then: impl FnOnce(&Cid) -> Result<()>,
) -> Result<Cid> {
    let mut tree_options = TreeOptions::default();
    tree_options.wrap_with_directory();
    tree_options.cid_version(options.cid_version);
    let mut tree = BufferingTreeBuilder::new(tree_options);
    let mut batch = store.batch()?;
    for (path, entry) in entries {
        let clean = clean_path(path)?;
        let (cid, size) = match entry {
            Entry::File(data) => {
                let mut import = FileImport::new(store, options)?;
                import.write(data)?;
                let (cid, size, file_batch) = import.finish()?;
                // The file's blocks join the directory's batch.
                file_batch.commit_into(&mut batch)?;
                (cid, size)
            }
            Entry::EmptyDirectory => {
                let hash = multihash::Multihash::<64>::wrap(
                    crate::blockstore::SHA2_256,
                    &<sha2::Sha256 as sha2::Digest>::digest(EMPTY_DIRECTORY),
                )
                .map_err(|e| IpfsError::BadAdd(e.to_string()))?;
                let cid = match options.cid_version {
                    Version::V0 => Cid::new_v0(hash),
                    Version::V1 => Ok(Cid::new_v1(crate::reader::DAG_PB, hash)),
                }
                .map_err(|e| IpfsError::BadAdd(e.to_string()))?;
                batch.put(&cid, EMPTY_DIRECTORY)?;
                (cid, EMPTY_DIRECTORY.len() as u64)
            }
        };
        tree.put_link(&clean, cid, size)
            .map_err(|e| IpfsError::BadAdd(format!("`{path}`: {e} (each path may appear once)")))?;
    }
    let mut root = None;
    let mut nodes = tree.build();
    while let Some(node) = nodes.next_borrowed() {
        let node = node.map_err(|e| IpfsError::BadAdd(format!("building the directory: {e}")))?;
        batch.put(node.cid, node.block)?;
        root = Some(*node.cid);
    }
    let root = root.ok_or_else(|| IpfsError::BadAdd("the directory has no entries".into()))?;
    batch.commit_then(|| then(&root))?;
    Ok(root)
}

/// `path` checked (relative, not empty, no `.` or `..`) and without empty
/// components; the rules for a path in any tree added, whichever backend
/// adds it.
pub(crate) fn clean_path(path: &str) -> Result<String> {
    let bad = |why: &str| IpfsError::BadAdd(format!("path `{path}` {why}"));
    if path.starts_with('/') {
        return Err(bad(
            "is absolute; give paths relative to the directory's root",
        ));
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err(bad("is empty"));
    }
    if parts.iter().any(|p| *p == "." || *p == "..") {
        return Err(bad("contains `.` or `..`"));
    }
    Ok(parts.join("/"))
}
