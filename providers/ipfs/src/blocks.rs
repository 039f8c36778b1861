//! Where blocks come from: the local store first, then peers over Bitswap,
//! waiting at most a bounded time.

use std::rc::Rc;
use std::time::Duration;

use cid::Cid;

use crate::bitswap::Bitswap;
use crate::blockstore::Blockstore;
use crate::error::{IpfsError, Result};

/// How long a block may take to arrive from peers by default.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The local store and, when the node is on a network, Bitswap.
#[derive(Clone)]
pub struct Blocks {
    /// The local store.
    pub store: Blockstore,
    network: Option<Rc<Bitswap>>,
    timeout: Duration,
}

impl Blocks {
    /// Blocks from `store` only, or from peers too when `network` is given,
    /// each fetch bounded by `timeout`.
    pub fn new(store: Blockstore, network: Option<Rc<Bitswap>>, timeout: Duration) -> Blocks {
        Blocks {
            store,
            network,
            timeout,
        }
    }

    /// Bitswap, when the node has a network.
    pub fn network(&self) -> Option<&Rc<Bitswap>> {
        self.network.as_ref()
    }

    /// The verified bytes of `cid`, from the store or from peers (then
    /// stored). `root` is the CID the caller started from: its providers
    /// are looked up when no connected peer has the block.
    ///
    /// # Errors
    ///
    /// [`IpfsError::NotFound`] (naming the CID) after the fetch timeout, a
    /// corrupt block, or a store error.
    pub async fn get(&self, cid: &Cid, root: &Cid) -> Result<Vec<u8>> {
        if let Some(data) = self.store.get(cid)? {
            return Ok(data);
        }
        match &self.network {
            Some(network) => network.fetch(*cid, *root, self.timeout).await,
            None => Err(IpfsError::NotFound {
                cid: cid.to_string(),
                peers: 0,
                timeout: Duration::ZERO,
            }),
        }
    }

    /// Starts fetching `cid` in the background when it is not stored, so a
    /// later [`get`](Blocks::get) finds it sooner.
    pub fn prefetch(&self, cid: &Cid, root: &Cid) {
        if let Some(network) = &self.network {
            if !self.store.has(cid) {
                network.prefetch(*cid, *root, self.timeout);
            }
        }
    }
}
