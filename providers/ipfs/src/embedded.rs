//! The embedded backend: the node's own blockstore and pins, with blocks
//! it lacks fetched over Bitswap and what it adds announced through
//! routing.
//!
//! Adds are pinned (as `ipfs add` pins); unpinning collects at once what
//! no pin reaches any more ([`crate::gc`]).

use std::rc::Rc;

use capnp::Error;
use cid::Cid;
use futures::channel::mpsc;
use futures::future::LocalBoxFuture;
use ww_capnp::ipfs_capnp::add_writer;

use crate::add_writer::AddWriterImpl;
use crate::backend::{Backend, Reading};
use crate::blocks::Blocks;
use crate::cat_stream::CHUNKS_AHEAD;
use crate::importer::{self, AddOptions};
use crate::lease::Lease;
use crate::path::IpfsPath;
use crate::pins::Pins;
use crate::reader::{self, Entry};
use crate::tree::{self, TreeEntry};

/// A node's blocks and pins, as a [`Backend`].
pub(crate) struct EmbeddedBackend {
    blocks: Blocks,
    pins: Pins,
    announce: Rc<dyn Fn(Cid)>,
    /// The store's shared lease, for as long as the node serves it.
    _lease: Lease,
}

impl EmbeddedBackend {
    /// Reads and adds through `blocks`, pinning what is added in `pins`;
    /// `announce` is told each CID added; `lease` is held while it lives.
    pub(crate) fn new(blocks: Blocks, pins: Pins, announce: Rc<dyn Fn(Cid)>, lease: Lease) -> Self {
        EmbeddedBackend {
            blocks,
            pins,
            announce,
            _lease: lease,
        }
    }

    /// Tells the network of an added (and pinned) `cid`.
    fn added(&self, cid: Cid) -> Result<Cid, Error> {
        (self.announce)(cid);
        Ok(cid)
    }
}

impl Backend for EmbeddedBackend {
    async fn read(&self, path: IpfsPath) -> Result<Reading, Error> {
        let (cid, block, size) = reader::open(&self.blocks, &path).await?;
        let (tx, chunks) = mpsc::channel(CHUNKS_AHEAD);
        let blocks = self.blocks.clone();
        let feed: LocalBoxFuture<'static, crate::error::Result<()>> =
            Box::pin(async move { reader::stream_file(&blocks, cid, block, path.root, tx).await });
        Ok(Reading {
            size: Some(size),
            chunks,
            feed,
        })
    }

    async fn ls(&self, path: &IpfsPath) -> Result<Vec<Entry>, Error> {
        Ok(reader::ls(&self.blocks, path).await?)
    }

    async fn add(&self, data: &[u8], options: AddOptions) -> Result<Cid, Error> {
        let cid =
            importer::add_bytes_then(&self.blocks.store, data, options, |cid| self.pins.add(cid))?;
        self.added(cid)
    }

    fn add_stream(&self, options: AddOptions) -> Result<add_writer::Client, Error> {
        let writer = AddWriterImpl::new(
            &self.blocks.store,
            options,
            self.pins.clone(),
            self.announce.clone(),
        )?;
        Ok(capnp_rpc::new_client(writer))
    }

    async fn add_directory(
        &self,
        files: &[TreeEntry<'_>],
        options: AddOptions,
    ) -> Result<Cid, Error> {
        let cid = tree::add_to_store(&self.blocks.store, files, options, |cid| self.pins.add(cid))?;
        self.added(cid)
    }

    async fn pin(&self, cid: &Cid) -> Result<(), Error> {
        Ok(self.pins.pin(&self.blocks, cid).await?)
    }

    async fn unpin(&self, cid: &Cid) -> Result<(), Error> {
        self.pins.unpin(cid)?;
        // What only this pin kept goes now (see `gc`), unless a `ww push`
        // is adding meanwhile (then the next collection takes it).
        crate::gc::collect(&self.blocks.store, &self.pins).map_err(|e| {
            Error::failed(format!(
                "{cid} is unpinned, but collecting its blocks failed: {e}"
            ))
        })?;
        Ok(())
    }
}
