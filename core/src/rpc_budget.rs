//! What one cell may make the host hold for it over Cap'n Proto, and the
//! back-pressure that keeps it there.
//!
//! A cell is hostile ground: it can pipeline calls and never read the
//! answers, send parameters that read far larger than they are, or ask for
//! capabilities and never release them. Every such cost is charged to the
//! cell's [`CellBudget`]:
//!
//! - **calls in flight**: every call the cell sends is held by the node
//!   (queued on a promise it pipelined onto, or forwarded with a copy of
//!   its parameters) until the node answers it;
//! - **call bytes**: the size of those calls' messages (a copy reads at
//!   most a small multiple of it, see [`crate::vat::network`]);
//! - **queued bytes**: answers (and calls) written toward the cell that it
//!   has not read yet;
//! - **capabilities** wrapped for it, alive until it releases them
//!   (counted by the epoch guard, see [`crate::epoch`]).
//!
//! The first three are counted by the cell's vat network, which sees every
//! `Call` the cell sends and every `Return` the node sends back.
//!
//! The first three are bounded by back-pressure: while any is at its bound
//! the node stops reading the cell's RPC connection, so the cell cannot ask
//! for more; what is in flight finishes and reading resumes. The node never
//! buffers on the cell's behalf past one message beyond the bound. The
//! fourth fails the call (or graft) that would hand out one capability too
//! many. Each bound, when first hit, is logged once as a WARN naming the
//! cell.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use tokio::sync::Notify;
use ww_provider_sdk::capnp;

/// Per-cell bounds on what the host holds for a cell's RPC (see the module
/// docs); `ww run` sets them with `--max-calls-in-flight`,
/// `--max-call-bytes`, `--max-queued-bytes` and `--max-caps`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RpcLimits {
    /// Calls the cell may have in flight (sent, not yet answered).
    pub calls: usize,
    /// Bytes of those calls' messages.
    pub call_bytes: usize,
    /// Bytes written toward the cell that it has not read.
    pub queued_bytes: usize,
    /// Guarded capabilities the cell may hold at once.
    pub caps: usize,
}

impl RpcLimits {
    /// Calls in flight by default: deep enough for any pipelining a cell
    /// does on purpose.
    pub const CALLS: usize = 256;
    /// Parameter bytes in flight by default (a few large writes or loads).
    pub const CALL_BYTES: usize = 16 << 20;
    /// Unread bytes toward a cell by default.
    pub const QUEUED_BYTES: usize = 4 << 20;
    /// Capabilities held by default (each costs the host a few KiB).
    pub const CAPS: usize = 4096;
    /// What one capability wrapped for a cell is taken to cost the host
    /// (measured: ~3.8 KB with its lease, proxy and RPC table entries).
    pub const CAP_BYTES: usize = 4 << 10;

    /// The most these bounds let one cell make the node hold: its calls'
    /// bytes, the bytes queued toward it and its capabilities. Reserved
    /// from the node's memory budget together with the cell's memory
    /// limit (see [`crate::memory_budget`]), so that however many cells
    /// run, what they can make the host hold for their RPC is within the
    /// budget too, not only their linear memories. (The one message the
    /// network reads past a bound, see the module docs, is not counted.)
    pub fn held_bytes(&self) -> usize {
        self.call_bytes
            .saturating_add(self.queued_bytes)
            .saturating_add(self.caps.saturating_mul(Self::CAP_BYTES))
    }
}

impl Default for RpcLimits {
    fn default() -> Self {
        RpcLimits {
            calls: Self::CALLS,
            call_bytes: Self::CALL_BYTES,
            queued_bytes: Self::QUEUED_BYTES,
            caps: Self::CAPS,
        }
    }
}

/// The four bounds, for the warnings (one each per cell).
#[derive(Clone, Copy)]
enum Bound {
    Calls = 1,
    CallBytes = 2,
    Queued = 4,
    Caps = 8,
}

/// One cell's account of what the host holds for it.
pub struct CellBudget {
    cell: String,
    limits: RpcLimits,
    /// Calls in flight: question id to message bytes.
    calls: RefCell<HashMap<u32, usize>>,
    call_bytes: Cell<usize>,
    queued: Cell<usize>,
    caps: Cell<usize>,
    /// Why the cell lost its capabilities (it broke its RPC connection).
    closed: RefCell<Option<String>>,
    /// Woken whenever something held is given back.
    freed: Notify,
    /// The bounds already warned about.
    warned: Cell<u8>,
}

impl CellBudget {
    /// A fresh account for the cell named `cell`.
    pub fn new(cell: impl Into<String>, limits: RpcLimits) -> Rc<CellBudget> {
        Rc::new(CellBudget {
            cell: cell.into(),
            limits,
            calls: RefCell::new(HashMap::new()),
            call_bytes: Cell::new(0),
            queued: Cell::new(0),
            caps: Cell::new(0),
            closed: RefCell::new(None),
            freed: Notify::new(),
            warned: Cell::new(0),
        })
    }

    /// The cell this account is for.
    pub fn cell(&self) -> &str {
        &self.cell
    }

    /// Fails once the cell has lost its capabilities.
    ///
    /// # Errors
    ///
    /// A `disconnected` error saying why, for the call that was refused.
    pub fn check_open(&self) -> Result<(), capnp::Error> {
        match &*self.closed.borrow() {
            None => Ok(()),
            Some(why) => Err(capnp::Error::disconnected(format!(
                "cell {} lost its capabilities: {why}",
                self.cell
            ))),
        }
    }

    /// Closes every door of the cell: from now on each call on its
    /// capabilities, through its vat or its WIT imports, fails with `why`.
    pub fn close(&self, why: impl Into<String>) {
        let mut closed = self.closed.borrow_mut();
        if closed.is_none() {
            *closed = Some(why.into());
        }
    }

    /// The cell sent call `question` in a message of `bytes`: held until
    /// [answered](CellBudget::answered).
    pub fn called(&self, question: u32, bytes: usize) {
        if let Some(old) = self.calls.borrow_mut().insert(question, bytes) {
            // A reused question id: the RPC system refuses it; keep the
            // count right meanwhile.
            self.call_bytes
                .set(self.call_bytes.get().saturating_sub(old));
        }
        self.call_bytes
            .set(self.call_bytes.get().saturating_add(bytes));
    }

    /// The node answered the cell's call `question`.
    pub fn answered(&self, question: u32) {
        if let Some(bytes) = self.calls.borrow_mut().remove(&question) {
            self.call_bytes
                .set(self.call_bytes.get().saturating_sub(bytes));
            self.freed.notify_waiters();
        }
    }

    /// One more capability held by the cell, until the lease drops.
    ///
    /// # Errors
    ///
    /// `overloaded` when the cell already holds its limit.
    pub fn lease(self: &Rc<Self>) -> Result<Lease, capnp::Error> {
        self.check_open()?;
        let held = self.caps.get();
        if held >= self.limits.caps {
            self.warn_once(Bound::Caps, || {
                format!(
                    "holds {held} capabilities, its bound (--max-caps); calls that would hand it more fail"
                )
            });
            return Err(capnp::Error::overloaded(format!(
                "cell {} already holds {held} capabilities, the most a cell may hold (--max-caps); \
                 release capabilities it no longer uses (drop them) before asking for more",
                self.cell
            )));
        }
        self.caps.set(held + 1);
        Ok(Lease(self.clone()))
    }

    /// `bytes` were queued toward the cell.
    pub fn queue(&self, bytes: usize) {
        self.queued.set(self.queued.get().saturating_add(bytes));
    }

    /// The cell read `bytes` of what was queued toward it.
    pub fn dequeue(&self, bytes: usize) {
        self.queued.set(self.queued.get().saturating_sub(bytes));
        self.freed.notify_waiters();
    }

    /// What the cell holds now: calls in flight, their parameter bytes,
    /// unread bytes toward it, capabilities.
    pub fn held(&self) -> (usize, usize, usize, usize) {
        (
            self.calls.borrow().len(),
            self.call_bytes.get(),
            self.queued.get(),
            self.caps.get(),
        )
    }

    /// Waits until the cell may send more: every back-pressure bound is
    /// below its limit. The vat awaits this before reading each message.
    pub async fn may_send(&self) {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before the check, so a release between the check
            // and the wait is not missed.
            freed.as_mut().enable();
            let Some(bound) = self.over() else { return };
            self.warn_once(bound, || self.describe(bound));
            freed.await;
        }
    }

    fn over(&self) -> Option<Bound> {
        if self.calls.borrow().len() >= self.limits.calls {
            Some(Bound::Calls)
        } else if self.call_bytes.get() >= self.limits.call_bytes {
            Some(Bound::CallBytes)
        } else if self.queued.get() >= self.limits.queued_bytes {
            Some(Bound::Queued)
        } else {
            None
        }
    }

    fn describe(&self, bound: Bound) -> String {
        let what = match bound {
            Bound::Calls => format!(
                "has {} calls in flight, its bound (--max-calls-in-flight)",
                self.calls.borrow().len()
            ),
            Bound::CallBytes => format!(
                "holds {} bytes of calls in flight, its bound is {} (--max-call-bytes)",
                self.call_bytes.get(),
                self.limits.call_bytes
            ),
            Bound::Queued => format!(
                "has not read {} bytes of answers and calls sent to it, its bound is {} (--max-queued-bytes)",
                self.queued.get(),
                self.limits.queued_bytes
            ),
            Bound::Caps => unreachable!("capabilities are refused, not paused"),
        };
        format!("{what}; the node stops reading its RPC connection until that drains")
    }

    fn warn_once(&self, bound: Bound, what: impl FnOnce() -> String) {
        let bit = bound as u8;
        if self.warned.get() & bit == 0 {
            self.warned.set(self.warned.get() | bit);
            tracing::warn!(cell = %self.cell, "cell {} {}", self.cell, what());
        }
    }
}

/// One capability held by a cell, given back when its wrapper drops.
pub struct Lease(Rc<CellBudget>);

impl Drop for Lease {
    fn drop(&mut self) {
        self.0.caps.set(self.0.caps.get().saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_given_back_when_answered() {
        let budget = CellBudget::new("c", RpcLimits::default());
        budget.called(1, 80);
        budget.called(2, 40);
        assert_eq!(budget.held(), (2, 120, 0, 0));
        budget.answered(1);
        budget.answered(2);
        budget.answered(3);
        assert_eq!(budget.held(), (0, 0, 0, 0));
    }

    #[test]
    fn a_cell_at_its_capability_bound_is_refused_one_more() {
        let limits = RpcLimits {
            caps: 2,
            ..RpcLimits::default()
        };
        let budget = CellBudget::new("c", limits);
        let first = budget.lease().unwrap();
        let _second = budget.lease().unwrap();
        let err = budget.lease().err().unwrap();
        assert!(matches!(err.kind, capnp::ErrorKind::Overloaded));
        assert!(err.extra.contains("--max-caps"), "{}", err.extra);
        drop(first);
        assert!(budget.lease().is_ok());
    }

    #[test]
    fn a_closed_cell_is_refused_everything() {
        let budget = CellBudget::new("c", RpcLimits::default());
        budget.close("it broke its RPC connection");
        let err = budget.lease().err().unwrap();
        assert!(
            err.extra.contains("broke its RPC connection"),
            "{}",
            err.extra
        );
        assert!(budget.check_open().is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn sending_waits_while_a_bound_is_reached() {
        let limits = RpcLimits {
            calls: 1,
            ..RpcLimits::default()
        };
        let budget = CellBudget::new("c", limits);
        budget.called(7, 8);
        let mut waiting = Box::pin(budget.may_send());
        assert!(futures::poll!(&mut waiting).is_pending());
        budget.answered(7);
        waiting.await;
    }
}
