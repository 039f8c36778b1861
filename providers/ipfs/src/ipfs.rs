//! `Ipfs`: the UnixFS API, and pins, over either backend.

use std::rc::Rc;

use capnp::Error;
use ww_capnp::ipfs_capnp::{ipfs, unix_fs};

use crate::backend::Backend;
use crate::fields;
use crate::unixfs::UnixFsImpl;

/// Serves `Ipfs` over a [`Backend`].
pub(crate) struct IpfsImpl<B> {
    unixfs: unix_fs::Client,
    backend: Rc<B>,
}

impl<B: Backend> IpfsImpl<B> {
    /// Serves `backend`'s files and pins.
    pub(crate) fn new(backend: B) -> Self {
        let backend = Rc::new(backend);
        let unixfs = capnp_rpc::new_client(UnixFsImpl::new(backend.clone()));
        IpfsImpl { unixfs, backend }
    }
}

impl<B: Backend> ipfs::Server for IpfsImpl<B> {
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
        self.backend.pin(&cid).await
    }

    async fn unpin(
        self: Rc<Self>,
        params: ipfs::UnpinParams,
        _: ipfs::UnpinResults,
    ) -> Result<(), Error> {
        let cid = fields::cid(params.get()?.get_cid()?)?;
        self.backend.unpin(&cid).await
    }
}
