//! Collection: removing blocks no pin reaches, as Kubo's `ipfs repo gc`.
//!
//! A collection runs when a pin is removed (`Ipfs.unpin`): what the pin
//! kept and no other pin reaches leaves the store then. Adds pin what they
//! add (as `ipfs add` does), so content stays until it is unpinned. Blocks
//! fetched for a `cat` and never pinned are a cache, like Kubo's: collected
//! by the next unpin, when the store grows past `ipfs-store-max` (as
//! Kubo's `StorageMax` with `--enable-gc`; [`run_when_over`]), or by `ww
//! check --gc` with no node running.
//!
//! Never collected: a block a pin reaches, nor one an add or a pin in
//! flight in this process holds ([`crate::blockstore::Holds`]); and no
//! collection runs while a `ww push` adds to the same directory
//! ([`Lease::collecting`]): it is left for the next occasion.
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
use crate::lease::Lease;
use crate::pins::Pins;
use crate::reader::DAG_PB;

/// Removes every block of `store` that no pin in `pins` reaches; `None`
/// when another process is adding (nothing is removed then).
///
/// # Errors
///
/// A block under a pin that is not valid dag-pb (nothing is removed
/// then: the marking is incomplete), or an I/O error.
pub fn collect(store: &Blockstore, pins: &Pins) -> Result<Option<Swept>> {
    let Some(_collecting) = Lease::collecting(store.data_dir())? else {
        tracing::debug!("ipfs: a collection waits: another process is adding");
        return Ok(None);
    };
    let mut reached = HashSet::new();
    mark(store, pins.list(), &mut reached)?;
    // Adds and pins release their blocks only after recording their pin:
    // with releases stopped, listing again sees every pin recorded since.
    let held = store.held();
    mark(store, pins.list(), &mut reached)?;
    let swept = store.sweep_held(held, &reached)?;
    tracing::debug!(
        removed = swept.removed,
        kept = swept.kept,
        kept_bytes = swept.kept_bytes,
        "ipfs: collected blocks no pin reaches"
    );
    Ok(Some(swept))
}

/// Adds to `reached` the key of every block of the DAGs under `roots` not
/// reached yet.
fn mark(store: &Blockstore, roots: Vec<Cid>, reached: &mut HashSet<String>) -> Result<()> {
    let mut pending = roots;
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
    Ok(())
}

/// Collects whenever `store` grows past its limit ([`Blockstore::measure`]
/// set it); runs for as long as the node's thread does.
pub(crate) async fn run_when_over(store: Blockstore, pins: Pins) {
    loop {
        store.usage().exceeded().await;
        let before = store.usage().bytes();
        match collect(&store, &pins) {
            Ok(Some(swept)) if swept.kept_bytes > store.usage().limit().unwrap_or(u64::MAX) => {
                tracing::warn!(
                    pinned_bytes = swept.kept_bytes,
                    "ipfs: the store is over ipfs-store-max with pinned content alone; \
                     unpin content or raise ipfs-store-max"
                )
            }
            Ok(Some(swept)) => tracing::info!(
                before,
                after = swept.kept_bytes,
                removed = swept.removed,
                "ipfs: the store was over ipfs-store-max; collected blocks no pin reaches"
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!("ipfs: collecting past ipfs-store-max failed: {e}"),
        }
    }
}
