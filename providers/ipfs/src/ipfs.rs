//! `Ipfs`: the UnixFS API, and pins.

use std::rc::Rc;

use capnp::Error;
use ww_capnp::ipfs_capnp::{ipfs, unix_fs};

use crate::blocks::Blocks;
use crate::fields;
use crate::pins::Pins;

/// Serves `Ipfs`.
pub struct IpfsImpl {
    unixfs: unix_fs::Client,
    blocks: Blocks,
    pins: Pins,
}

impl IpfsImpl {
    /// Hands out `unixfs`; pins in `pins`, fetching through `blocks`.
    pub fn new(unixfs: unix_fs::Client, blocks: Blocks, pins: Pins) -> Self {
        IpfsImpl {
            unixfs,
            blocks,
            pins,
        }
    }
}

impl ipfs::Server for IpfsImpl {
    async fn unixfs(
        self: Rc<Self>,
        _: ipfs::UnixfsParams,
        mut results: ipfs::UnixfsResults,
    ) -> Result<(), Error> {
        results.get().set_api(self.unixfs.clone());
        Ok(())
    }

    async fn pin(
        self: Rc<Self>,
        params: ipfs::PinParams,
        _: ipfs::PinResults,
    ) -> Result<(), Error> {
        let cid = fields::cid(params.get()?.get_cid()?)?;
        self.pins.pin(&self.blocks, &cid).await?;
        Ok(())
    }

    async fn unpin(
        self: Rc<Self>,
        params: ipfs::UnpinParams,
        _: ipfs::UnpinResults,
    ) -> Result<(), Error> {
        let cid = fields::cid(params.get()?.get_cid()?)?;
        self.pins.unpin(&cid)?;
        // What only this pin kept goes now (see `gc`).
        crate::gc::collect(&self.blocks.store, &self.pins).map_err(|e| {
            Error::failed(format!(
                "{cid} is unpinned, but collecting its blocks failed: {e}"
            ))
        })?;
        Ok(())
    }
}
