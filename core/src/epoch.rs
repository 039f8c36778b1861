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
//! SIGHUP.

use futures::future::LocalBoxFuture;
use tokio::sync::watch;

use ww_provider_sdk::capnp;
use ww_provider_sdk::proxy::Policy;

type Response = capnp::capability::Response<capnp::any_pointer::Owned>;

/// One period of validity for capabilities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Epoch {
    /// Monotonic, starting at 1.
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

    /// A guard for capabilities issued now, in the current epoch.
    pub fn guard(&self) -> EpochGuard {
        let rx = self.tx.subscribe();
        let issued = rx.borrow().seq;
        EpochGuard { issued, rx }
    }
}

/// The failure every call on a revoked capability gets. The text is part of
/// the guest contract (`ww_guest::stale_epoch` parses it).
pub fn stale(issued: u64, current: u64) -> capnp::Error {
    capnp::Error::failed(format!(
        "staleEpoch: capability from epoch {issued} was revoked; current epoch is {current}; graft again"
    ))
}

/// Revokes the capabilities it wraps when their epoch ends.
#[derive(Clone)]
pub struct EpochGuard {
    issued: u64,
    rx: watch::Receiver<Epoch>,
}

impl EpochGuard {
    /// The epoch this guard's capabilities belong to.
    pub fn seq(&self) -> u64 {
        self.issued
    }

    fn current(&self) -> u64 {
        self.rx.borrow().seq
    }
}

impl Policy for EpochGuard {
    fn admit(&self) -> Result<(), capnp::Error> {
        match self.current() {
            current if current == self.issued => Ok(()),
            current => Err(stale(self.issued, current)),
        }
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
