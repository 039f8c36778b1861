//! Pins: DAGs kept whole in the local store, recorded as one empty file per
//! root under `<data-dir>/ipfs/pins/`.
//!
//! A pin is recorded only once every block of its DAG is durably stored,
//! and the record itself appears atomically ([`crate::durable`]), so a
//! crash leaves a pin whole or absent, never one naming missing blocks.

use std::fs;
use std::path::PathBuf;

use bytes::Bytes;
use cid::Cid;
use ipld_dagpb::PbNode;

use crate::blocks::Blocks;
use crate::durable;
use crate::error::{IpfsError, Result};
use crate::reader::DAG_PB;

/// The pin records of one store.
#[derive(Clone, Debug)]
pub struct Pins {
    dir: PathBuf,
    tmp: PathBuf,
}

impl Pins {
    /// Pins recorded under `data_dir/ipfs/pins`.
    ///
    /// # Errors
    ///
    /// When the directory cannot be created.
    pub fn open(data_dir: &std::path::Path) -> Result<Pins> {
        let dir = data_dir.join("ipfs").join("pins");
        let tmp = data_dir.join("ipfs").join("tmp");
        for dir in [&dir, &tmp] {
            fs::create_dir_all(dir).map_err(|source| IpfsError::Store {
                path: dir.clone(),
                what: "creating the directory",
                source,
            })?;
        }
        Ok(Pins { dir, tmp })
    }

    fn record(&self, cid: &Cid) -> PathBuf {
        // CIDv1 text, so a CIDv0 and its CIDv1 are one pin.
        let v1 = cid.into_v1().unwrap_or(*cid);
        self.dir.join(v1.to_string())
    }

    /// Fetches every block of the DAG under `cid` that is missing, then
    /// records the pin.
    ///
    /// # Errors
    ///
    /// A block that cannot be fetched (nothing is recorded then).
    pub async fn pin(&self, blocks: &Blocks, cid: &Cid) -> Result<()> {
        // Fetched blocks stay until the pin keeps them: a collection while
        // the rest arrive must not take them.
        let mut holds = blocks.store.holds();
        let mut pending = vec![*cid];
        while let Some(next) = pending.pop() {
            holds.hold(&next);
            let data = blocks.get(&next, cid).await?;
            if next.codec() == DAG_PB {
                let node =
                    PbNode::from_bytes(Bytes::from(data)).map_err(|e| IpfsError::Malformed {
                        cid: next.to_string(),
                        reason: e.to_string(),
                    })?;
                pending.extend(node.links.iter().map(|l| l.cid));
            }
        }
        self.add(cid)
    }

    /// Records the pin of `cid`, whose DAG the caller just stored whole
    /// (an add: pinned as `ipfs add` pins).
    ///
    /// # Errors
    ///
    /// When the record cannot be written.
    pub fn add(&self, cid: &Cid) -> Result<()> {
        let path = self.record(cid);
        let staging = durable::temp_name(&self.tmp, "pin");
        durable::replace(&staging, &path, b"").map_err(|source| IpfsError::Store {
            path,
            what: "recording a pin",
            source,
        })
    }

    /// Every pinned root (as CIDv1), in no particular order.
    pub fn list(&self) -> Vec<Cid> {
        std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| Cid::try_from(e.file_name().to_str()?).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Removes the pin of `cid`.
    ///
    /// # Errors
    ///
    /// [`IpfsError::NotPinned`] when there is none.
    pub fn unpin(&self, cid: &Cid) -> Result<()> {
        let path = self.record(cid);
        match fs::remove_file(&path) {
            Ok(()) => durable::sync_dir(&self.dir).map_err(|source| IpfsError::Store {
                path: self.dir.clone(),
                what: "syncing the pins",
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(IpfsError::NotPinned {
                cid: cid.to_string(),
            }),
            Err(source) => Err(IpfsError::Store {
                path,
                what: "removing a pin",
                source,
            }),
        }
    }
}
