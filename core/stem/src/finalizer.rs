//! The finalizer: promotes an update only once its block is deep enough,
//! and only if the chain still agrees.
//!
//! An update seen in block `B` is settled when the tip reaches `B + depth`
//! (`depth` blocks on top of it). Settling re-checks, at that moment, that
//! `B` is still canonical (its hash is the one the update was seen in) and
//! that `head()` as of `B` is this update; an update whose block was
//! reorged away is dropped, one superseded later in the same block is
//! skipped. The check runs on every new block ([`Finalizer::settle`] is
//! called per block), not only when another update arrives, so the last
//! update is adopted after `depth` blocks even if nothing follows it.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::chain::{Chain, Update};
use crate::cursor::Cursor;
use crate::head::Head;
use crate::StemError;

/// A head the finalizer promoted: the node moves to it.
#[derive(Clone, Debug)]
pub struct Adoption {
    /// The new head.
    pub head: Head,
    /// The block the update was mined in.
    pub block: u64,
    /// When the stem learned of the block that made it `depth` deep.
    pub confirmed_at: Instant,
}

/// Pending updates and the cursor they move.
pub struct Finalizer {
    depth: u64,
    /// Keyed by (block, log index): chain order.
    pending: BTreeMap<(u64, u64), Update>,
    cursor: Cursor,
}

impl Finalizer {
    /// A finalizer that waits `depth` blocks, resuming at `cursor`.
    pub fn new(depth: u64, cursor: Cursor) -> Finalizer {
        Finalizer {
            depth,
            pending: BTreeMap::new(),
            cursor,
        }
    }

    /// How far it got.
    pub fn cursor(&self) -> &Cursor {
        &self.cursor
    }

    /// Updates seen but not settled yet.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Takes in an update from the subscription or a backfill. Seeing one
    /// twice is harmless; a `removed` log withdraws the one it names; an
    /// update at or below the adopted seq is ignored (no replay).
    pub fn observe(&mut self, update: Update) {
        let key = (update.block, update.log_index);
        if update.removed {
            if self
                .pending
                .get(&key)
                .is_some_and(|p| p.block_hash == update.block_hash)
            {
                tracing::info!(
                    seq = update.seq,
                    block = update.block,
                    "stem: update reorged away"
                );
                self.pending.remove(&key);
            }
            return;
        }
        if update.seq <= self.cursor.seq {
            return;
        }
        if self.pending.insert(key, update.clone()).is_none() {
            tracing::debug!(
                seq = update.seq,
                block = update.block,
                "stem: update seen; waiting for depth"
            );
        }
    }

    /// Settles every pending update that is `depth` deep at `tip`, in chain
    /// order, and returns those adopted. `seen` is when the stem learned of
    /// `tip`.
    ///
    /// # Errors
    ///
    /// A re-check could not be made (the RPC failed); what was settled
    /// before it stays settled, the rest stays pending for the next block.
    pub async fn settle(
        &mut self,
        tip: u64,
        seen: Instant,
        chain: &Chain,
    ) -> Result<Vec<Adoption>, StemError> {
        let Some(settled_to) = tip.checked_sub(self.depth) else {
            return Ok(Vec::new());
        };
        let mut adopted = Vec::new();
        while let Some((&key, update)) = self.pending.first_key_value() {
            if key.0 > settled_to {
                break;
            }
            let update = update.clone();
            match self.check(&update, chain).await {
                Ok(verdict) => {
                    self.pending.remove(&key);
                    if let Some(head) = verdict {
                        self.cursor.seq = head.seq;
                        self.cursor.cid = head.cid.to_bytes();
                        tracing::info!(
                            seq = head.seq,
                            cid = %head.cid,
                            block = update.block,
                            "stem: adopted head"
                        );
                        adopted.push(Adoption {
                            head,
                            block: update.block,
                            confirmed_at: seen,
                        });
                    }
                }
                Err(e) => {
                    self.cursor.block = self.cursor.block.max(update.block.saturating_sub(1));
                    return Err(e);
                }
            }
        }
        self.cursor.block = self.cursor.block.max(settled_to);
        Ok(adopted)
    }

    /// Whether `update` stands at depth: `Some(head)` to adopt, `None` to
    /// drop it (reorged away, superseded, or not a CID).
    async fn check(&self, update: &Update, chain: &Chain) -> Result<Option<Head>, StemError> {
        if update.seq <= self.cursor.seq {
            return Ok(None);
        }
        if chain.block_hash(update.block).await? != Some(update.block_hash) {
            tracing::info!(
                seq = update.seq,
                block = update.block,
                "stem: dropped an update whose block was reorged away"
            );
            return Ok(None);
        }
        let (seq, cid) = chain.head_at(update.block).await?;
        if seq > update.seq {
            tracing::debug!(seq = update.seq, "stem: superseded in the same block");
            return Ok(None);
        }
        if seq != update.seq || cid != update.cid {
            tracing::warn!(
                seq = update.seq,
                block = update.block,
                at_block = seq,
                "stem: head() at the update's block disagrees with the event; dropped"
            );
            return Ok(None);
        }
        match Head::parse(update.seq, &update.cid) {
            Ok(head) => Ok(Some(head)),
            Err(e) => {
                tracing::error!("stem: {e}; the node keeps its current epoch");
                Ok(None)
            }
        }
    }
}
