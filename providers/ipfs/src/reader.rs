//! Reading UnixFS: walking a path to its node, listing directories and
//! streaming files, fetching blocks as it goes.

use cid::Cid;
use futures::channel::mpsc;
use futures::SinkExt;
use rust_unixfs::dir::{describe, NodeDescription};
use rust_unixfs::file::visit::IdleFileVisit;

use crate::blocks::Blocks;
use crate::error::{IpfsError, Result};
use crate::path::IpfsPath;

/// The dag-pb multicodec.
pub const DAG_PB: u64 = 0x70;

/// The raw multicodec.
pub const RAW: u64 = 0x55;

/// How many blocks of a file are fetched ahead of the one being read.
pub const PREFETCH: usize = 32;

/// One directory entry, as `ls` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its name in the directory.
    pub name: String,
    /// Its CID.
    pub cid: Cid,
    /// File size for files, DAG size for directories.
    pub size: u64,
    /// Whether it is a directory.
    pub is_directory: bool,
}

/// What a node is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A file of this many bytes.
    File(u64),
    /// A (flat or sharded) directory.
    Directory,
    /// Something else (a symlink, plain dag-pb, another codec).
    Other(&'static str),
}

impl Kind {
    /// The kind in words.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::File(_) => "file",
            Kind::Directory => "directory",
            Kind::Other(what) => what,
        }
    }
}

/// Runs a rust-unixfs decoder on a block from outside. It decodes with
/// quick-protobuf, whose skipping of an unknown field can step past the end
/// of a nested message on a malformed block and then panic (an arithmetic
/// overflow, or a slice out of range); such a block must fail as malformed,
/// never take the provider down. `None` when the decoder panicked.
fn decode<T>(decoder: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(decoder)).ok()
}

/// Why a block that made the decoder panic is refused.
const UNDECODABLE: &str = "malformed dag-pb node (its protobuf does not decode)";

/// What `block` (the block of `cid`) is.
pub fn kind_of(cid: &Cid, block: &[u8]) -> Kind {
    match cid.codec() {
        RAW => Kind::File(block.len() as u64),
        DAG_PB => match decode(|| describe(block)).unwrap_or(NodeDescription::Other) {
            NodeDescription::File { size } => Kind::File(size),
            NodeDescription::Directory { .. } | NodeDescription::HamtShard { .. } => {
                Kind::Directory
            }
            NodeDescription::Symlink => Kind::Other("symlink"),
            NodeDescription::Other => Kind::Other("dag-pb node without UnixFS data"),
        },
        _ => Kind::Other("block of a codec other than dag-pb or raw"),
    }
}

/// Walks `path` to its node: its CID and block.
///
/// # Errors
///
/// A missing block, a segment under a file, or a name that is not there.
pub async fn resolve(blocks: &Blocks, path: &IpfsPath) -> Result<(Cid, Vec<u8>)> {
    let root = path.root;
    let mut cid = root;
    let mut block = blocks.get(&cid, &root).await?;
    for segment in &path.segments {
        let kind = kind_of(&cid, &block);
        if kind != Kind::Directory {
            return Err(IpfsError::NotADirectory {
                path: path.to_string(),
                segment: segment.clone(),
                kind: kind.name(),
            });
        }
        let found = entries(blocks, &cid, &block, &root)
            .await?
            .into_iter()
            .find(|(name, _, _)| name == segment);
        match found {
            Some((_, child, _)) => {
                cid = child;
                block = blocks.get(&cid, &root).await?;
            }
            None => {
                return Err(IpfsError::NoSuchEntry {
                    path: path.to_string(),
                    segment: segment.clone(),
                })
            }
        }
    }
    Ok((cid, block))
}

/// The raw entries of a directory node: (name, cid, Tsize), flattening
/// HAMT shards.
async fn entries(
    blocks: &Blocks,
    cid: &Cid,
    block: &[u8],
    root: &Cid,
) -> Result<Vec<(String, Cid, u64)>> {
    let mut out = Vec::new();
    // Shards still to read: (block, whether it is a shard).
    let mut pending = vec![(*cid, block.to_vec())];
    while let Some((cid, block)) = pending.pop() {
        let Some(description) = decode(|| describe(&block)) else {
            return Err(IpfsError::Malformed {
                cid: cid.to_string(),
                reason: UNDECODABLE.into(),
            });
        };
        match description {
            NodeDescription::Directory { links } => {
                out.extend(links.into_iter().map(|l| (l.name, l.target, l.tsize)))
            }
            NodeDescription::HamtShard { links } => {
                for link in links {
                    // Every name starts with its bucket, two hex digits; a
                    // link named by its bucket alone is a sub-shard.
                    let bucket = link.name.as_bytes().get(..2);
                    if !bucket.is_some_and(|b| b.iter().all(u8::is_ascii_hexdigit)) {
                        return Err(IpfsError::Malformed {
                            cid: cid.to_string(),
                            reason: format!(
                                "a HAMT shard's link name {:?} does not start with two hex \
                                 digits (its bucket)",
                                link.name
                            ),
                        });
                    }
                    if link.name.len() == 2 {
                        let sub = blocks.get(&link.target, root).await?;
                        pending.push((link.target, sub));
                    } else {
                        out.push((link.name[2..].to_string(), link.target, link.tsize));
                    }
                }
            }
            _ => {
                return Err(IpfsError::Malformed {
                    cid: cid.to_string(),
                    reason: "expected a directory node".into(),
                })
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Lists the directory at `path`, in name order.
///
/// # Errors
///
/// As [`resolve`], or the path is not a directory.
pub async fn ls(blocks: &Blocks, path: &IpfsPath) -> Result<Vec<Entry>> {
    let (cid, block) = resolve(blocks, path).await?;
    let kind = kind_of(&cid, &block);
    if kind != Kind::Directory {
        return Err(IpfsError::WrongKind {
            path: path.to_string(),
            expected: "directory",
            actual: kind.name(),
        });
    }
    let mut out = Vec::new();
    for (name, child, tsize) in entries(blocks, &cid, &block, &path.root).await? {
        // Like Kubo, look at each child's first block to say what it is.
        let child_block = blocks.get(&child, &path.root).await?;
        let (size, is_directory) = match kind_of(&child, &child_block) {
            Kind::File(size) => (size, false),
            Kind::Directory => (tsize, true),
            Kind::Other(_) => (tsize, false),
        };
        out.push(Entry {
            name,
            cid: child,
            size,
            is_directory,
        });
    }
    Ok(out)
}

/// Resolves `path` to a file: its CID, first block and size.
///
/// # Errors
///
/// As [`resolve`], or the path is not a file.
pub async fn open(blocks: &Blocks, path: &IpfsPath) -> Result<(Cid, Vec<u8>, u64)> {
    let (cid, block) = resolve(blocks, path).await?;
    match kind_of(&cid, &block) {
        Kind::File(size) => Ok((cid, block, size)),
        other => Err(IpfsError::WrongKind {
            path: path.to_string(),
            expected: "file",
            actual: other.name(),
        }),
    }
}

/// Sends the file whose root is `cid` (first block `block`) into `sink`,
/// chunk by chunk, fetching ahead.
///
/// # Errors
///
/// A missing or malformed block; a closed `sink` ends the walk quietly.
pub async fn stream_file(
    blocks: &Blocks,
    cid: Cid,
    block: Vec<u8>,
    root: Cid,
    mut sink: mpsc::Sender<Vec<u8>>,
) -> Result<()> {
    let malformed = |e: &dyn std::fmt::Display| IpfsError::Malformed {
        cid: cid.to_string(),
        reason: e.to_string(),
    };
    let (first, mut visit) = if cid.codec() == RAW {
        let (content, _, _, visit) = IdleFileVisit::default().start_from_raw(&block);
        (content.to_vec(), visit)
    } else {
        let (content, _, _, visit) = decode(|| IdleFileVisit::default().start(&block))
            .ok_or_else(|| malformed(&UNDECODABLE))?
            .map_err(|e| malformed(&e))?;
        (content.to_vec(), visit)
    };
    if !first.is_empty() && sink.send(first).await.is_err() {
        return Ok(());
    }
    let mut cache = None;
    while let Some(v) = visit {
        let (next, ahead) = v.pending_links();
        let next = *next;
        for cid in ahead.take(PREFETCH) {
            blocks.prefetch(cid, &root);
        }
        let data = blocks.get(&next, &root).await?;
        let (content, rest) = decode(|| v.continue_walk(&data, &mut cache))
            .ok_or_else(|| malformed(&UNDECODABLE))?
            .map_err(|e| malformed(&e))?;
        if !content.is_empty() && sink.send(content.to_vec()).await.is_err() {
            return Ok(());
        }
        visit = rest;
    }
    Ok(())
}
