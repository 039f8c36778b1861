//! Epochs and the guard that revokes every capability of an ended one.
//!
//! Every capability that leaves through the membrane is wrapped by
//! [`ww_provider_sdk::proxy::wrap`] with an [`EpochGuard`] for the epoch it
//! was issued in, and so, transitively, is every capability returned from a
//! call on it. When the epoch advances, calls on any of them fail with a
//! stale-epoch error, including calls already in flight, and the guest
//! grafts again. No provider has to check an epoch itself.
//!
//! Without an on-chain stem there is one epoch (seq 1) for the life of the
//! process, unless the operator revokes with `ww run --revoke-on-hup` and
//! SIGHUP. With `--stem` the epoch's seq is the Atom's `seq` of the adopted
//! head ([`Epochs::starting_at`], [`Epochs::advance_to`]), so every node
//! following the same Atom numbers its epochs alike, and a Terminal
//! challenge signed for seq N means the same head everywhere.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use futures::future::LocalBoxFuture;
use tokio::sync::{oneshot, watch};

use ww_capnp::StaleEpoch;
use ww_provider_sdk::capnp;
use ww_provider_sdk::proxy::{Hold, Policy};

use crate::rpc_budget::{CellBudget, Lease};

type Response = capnp::capability::Response<capnp::any_pointer::Owned>;

/// One period of validity for capabilities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Epoch {
    /// Monotonic: 1 at start without a stem; with `--stem`, the Atom's `seq`
    /// of the adopted head (0 while the Atom has none).
    pub seq: u64,
    /// The head CID this epoch's base image came from (empty without a stem).
    pub head: Vec<u8>,
}

/// The node's epoch: the one source of truth, advanced by the stem (or by
/// the operator), observed by every guard.
pub struct Epochs {
    tx: watch::Sender<Epoch>,
}

impl Default for Epochs {
    fn default() -> Self {
        Self::new()
    }
}

impl Epochs {
    /// Epoch 1, with no head.
    pub fn new() -> Epochs {
        let (tx, _) = watch::channel(Epoch {
            seq: 1,
            head: Vec::new(),
        });
        Epochs { tx }
    }

    /// Epoch `seq` with `head`: a node following a stem starts in the
    /// epoch of the head it boots on.
    pub fn starting_at(seq: u64, head: Vec<u8>) -> Epochs {
        let (tx, _) = watch::channel(Epoch { seq, head });
        Epochs { tx }
    }

    /// The current epoch.
    pub fn current(&self) -> Epoch {
        self.tx.borrow().clone()
    }

    /// Ends the current epoch: every capability issued so far is revoked.
    /// Returns the new seq.
    pub fn advance(&self, head: Vec<u8>) -> u64 {
        let mut seq = 0;
        self.tx.send_modify(|epoch| {
            epoch.seq += 1;
            epoch.head = head;
            seq = epoch.seq;
        });
        tracing::info!(
            epoch = seq,
            "epoch advanced; capabilities of earlier epochs are revoked"
        );
        seq
    }

    /// Ends the current epoch and starts epoch `seq` (the Atom's seq of
    /// the adopted head): every capability issued so far is revoked.
    ///
    /// # Errors
    ///
    /// [`NotForward`] when `seq` is not above the current seq: epochs never
    /// go back, so the epoch is left as it is.
    pub fn advance_to(&self, seq: u64, head: Vec<u8>) -> Result<u64, NotForward> {
        let mut refused = None;
        self.tx.send_if_modified(|epoch| {
            if seq <= epoch.seq {
                refused = Some(epoch.seq);
                return false;
            }
            epoch.seq = seq;
            epoch.head = head;
            true
        });
        if let Some(current) = refused {
            return Err(NotForward { seq, current });
        }
        tracing::info!(
            epoch = seq,
            "epoch advanced; capabilities of earlier epochs are revoked"
        );
        Ok(seq)
    }

    /// Follows the epoch: the receiver sees each advance (a front end that
    /// holds capabilities, such as the MCP server, grafts again and tells
    /// its clients).
    pub fn subscribe(&self) -> watch::Receiver<Epoch> {
        self.tx.subscribe()
    }

    /// A guard for capabilities issued now, in the current epoch, to the
    /// cell whose account is `budget` (charged for every call and
    /// capability through them).
    pub fn guard(&self, budget: &Rc<CellBudget>) -> EpochGuard {
        let rx = self.tx.subscribe();
        let issued = rx.borrow().seq;
        EpochGuard {
            issued,
            rx,
            holds: Rc::new(RefCell::new(Holds::default())),
            budget: budget.clone(),
        }
    }
}

/// An epoch seq that would not move the epoch forward.
#[derive(Debug, thiserror::Error)]
#[error("epoch {seq} is not after the current epoch {current}; epochs only move forward, so the node stays on epoch {current}")]
pub struct NotForward {
    /// The seq asked for.
    pub seq: u64,
    /// The current seq.
    pub current: u64,
}

/// The failure every call on a revoked capability gets: a
/// [`StaleEpoch`], which guests and front ends read back with the same
/// codec.
pub fn stale(issued: u64, current: u64) -> capnp::Error {
    StaleEpoch { issued, current }.to_error()
}

/// Revokes the capabilities it wraps when their epoch ends.
///
/// Revoking is more than failing calls: when the epoch ends, the guard
/// drops every capability it wraps, so what a cell set up through them stops
/// even if the cell keeps its references — a `StreamListener` stops
/// listening, a dialed stream closes, a child's `Process` is released.
///
/// The guard is also where the capabilities a cell holds are counted
/// against its [`CellBudget`]: every guarded capability holds a lease until
/// it is released; and where a cell that lost its capabilities (it broke
/// its vat) is refused through every door.
#[derive(Clone)]
pub struct EpochGuard {
    issued: u64,
    rx: watch::Receiver<Epoch>,
    /// Shared by every capability wrapped with this guard (one graft and
    /// everything reached from it).
    holds: Rc<RefCell<Holds>>,
    /// The account of the cell the capabilities were issued to.
    budget: Rc<CellBudget>,
}

/// The wrapped capabilities of one guard, released together when its epoch
/// ends.
#[derive(Default)]
struct Holds {
    holds: Vec<Hold>,
    /// Prune released or dropped holds when the list reaches this length.
    prune_at: usize,
    /// Set once the watcher task runs; dropped with the last guard clone,
    /// which ends the task.
    watcher: Option<oneshot::Sender<()>>,
}

impl Holds {
    fn push(&mut self, hold: Hold) {
        if self.holds.len() >= self.prune_at {
            self.holds.retain(Hold::is_held);
            self.prune_at = (self.holds.len() * 2).max(16);
        }
        self.holds.push(hold);
    }
}

impl EpochGuard {
    /// Starts the one task per guard that releases its holds when the epoch
    /// ends; it also ends when every capability of the guard is gone.
    fn watch(&self, holds: &mut Holds) {
        if holds.watcher.is_some() {
            return;
        }
        let (alive, gone) = oneshot::channel();
        holds.watcher = Some(alive);
        let issued = self.issued;
        let mut rx = self.rx.clone();
        let weak: Weak<RefCell<Holds>> = Rc::downgrade(&self.holds);
        tokio::task::spawn_local(async move {
            tokio::select! {
                ended = rx.wait_for(|e| e.seq != issued) => {
                    if ended.is_err() {
                        return;
                    }
                }
                _ = gone => return,
            }
            let Some(holds) = weak.upgrade() else { return };
            // Taken out first: dropping a capability may re-enter (e.g. a
            // server's Drop wrapping another capability).
            let taken = std::mem::take(&mut holds.borrow_mut().holds);
            let released = taken.iter().filter(|h| h.release()).count();
            tracing::debug!(
                epoch = issued,
                released,
                "released the capabilities of an ended epoch"
            );
        });
    }
}

impl EpochGuard {
    /// The epoch this guard's capabilities belong to.
    pub fn seq(&self) -> u64 {
        self.issued
    }

    fn current(&self) -> u64 {
        self.rx.borrow().seq
    }

    /// Whether a call may be made now, charging nothing: the epoch has not
    /// ended and the cell still has its capabilities. For calls that finish
    /// at once without a copy (the WIT door's direct path).
    ///
    /// # Errors
    ///
    /// `staleEpoch`, or why the cell lost its capabilities.
    pub fn check(&self) -> Result<(), capnp::Error> {
        match self.current() {
            current if current == self.issued => self.budget.check_open(),
            current => Err(stale(self.issued, current)),
        }
    }
}

impl Policy for EpochGuard {
    type Lease = Lease;

    fn hold(&self, hold: Hold) {
        if self.current() != self.issued {
            hold.release();
            return;
        }
        let mut holds = self.holds.borrow_mut();
        self.watch(&mut holds);
        holds.push(hold);
    }

    fn admit(&self) -> Result<(), capnp::Error> {
        self.check()
    }

    fn lease(&self) -> Result<Lease, capnp::Error> {
        self.budget.lease()
    }

    fn guard(
        &self,
        call: LocalBoxFuture<'static, capnp::Result<Response>>,
    ) -> LocalBoxFuture<'static, capnp::Result<Response>> {
        let issued = self.issued;
        let mut rx = self.rx.clone();
        Box::pin(async move {
            let ended = async {
                if rx.wait_for(|e| e.seq != issued).await.is_err() {
                    // The node is shutting down; it never revokes again.
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                biased;
                result = call => {
                    // A reply that arrives after the epoch ended is dropped:
                    // it may carry capabilities of the old epoch's world.
                    let current = rx.borrow().seq;
                    if current == issued { result } else { Err(stale(issued, current)) }
                }
                () = ended => Err(stale(issued, rx.borrow().seq)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stem_epoch_moves_only_forward_to_the_atoms_seq() {
        let epochs = Epochs::starting_at(3, vec![1]);
        assert_eq!(epochs.current().seq, 3);
        assert_eq!(epochs.advance_to(5, vec![2]).unwrap(), 5);
        let err = epochs.advance_to(5, vec![3]).unwrap_err();
        assert_eq!((err.seq, err.current), (5, 5));
        assert!(epochs.advance_to(4, vec![3]).is_err());
        assert_eq!(
            epochs.current(),
            Epoch {
                seq: 5,
                head: vec![2]
            }
        );
    }
}
