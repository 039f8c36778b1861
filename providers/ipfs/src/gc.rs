//! Collection: removing blocks no pin reaches, as Kubo's `ipfs repo gc`.
//!
//! ww has no daemon an operator would run `repo gc` on, so a collection
//! runs when a pin is removed (`Ipfs.unpin`): what the pin kept and no
//! other pin reaches leaves the store then. Adds pin what they add (as
//! `ipfs add` does), so content stays until it is unpinned. Blocks fetched
//! for a `cat` and never pinned are collected by the next unpin, like
//! Kubo's cache.
//!
//! Mark and sweep: every DAG under a pin is walked through the local store
//! (each block verified as it is read), then every block neither reached
//! nor held by an add in flight ([`Blockstore::sweep`]) is removed. A pin
//! whose DAG is not whole locally keeps what it has.

use std::collections::HashSet;

use bytes::Bytes;
use cid::Cid;
use ipld_dagpb::PbNode;

use crate::blockstore::{Blockstore, Swept};
use crate::error::{IpfsError, Result};
use crate::pins::Pins;
use crate::reader::DAG_PB;

/// Removes every block of `store` that no pin in `pins` reaches.
///
/// # Errors
///
/// A block under a pin that is not valid dag-pb (nothing is removed
/// then: the marking is incomplete), or an I/O error.
pub fn collect(store: &Blockstore, pins: &Pins) -> Result<Swept> {
    let mut reached = HashSet::new();
    let mut pending: Vec<Cid> = pins.list();
    while let Some(cid) = pending.pop() {
        if !reached.insert(Blockstore::key(&cid)) {
            continue;
        }
        let data = match store.get(&cid) {
            Ok(Some(data)) => data,
            Ok(None) => continue,
            Err(e @ IpfsError::Corrupt { .. }) => {
                // Removed by the read; its children may still be reachable
                // through other pins, and are kept if so.
                tracing::warn!("collection: {e}");
                continue;
            }
            Err(e) => return Err(e),
        };
        if cid.codec() == DAG_PB {
            let node = PbNode::from_bytes(Bytes::from(data)).map_err(|e| IpfsError::Malformed {
                cid: cid.to_string(),
                reason: format!("{e} (nothing was collected)"),
            })?;
            pending.extend(node.links.iter().map(|l| l.cid));
        }
    }
    let swept = store.sweep(&reached)?;
    tracing::debug!(
        removed = swept.removed,
        kept = swept.kept,
        "ipfs: collected blocks no pin reaches"
    );
    Ok(swept)
}
