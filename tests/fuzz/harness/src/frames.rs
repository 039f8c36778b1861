//! A cell's vat as the fuzzer plays it: the bytes a hostile cell writes
//! into its RPC transport, read by the host's real vat
//! ([`ww_core::vat::connect`]: its
//! [`CellNetwork`](ww_core::vat::network::CellNetwork)
//! with the per-message read limits, charging the cell's [`CellBudget`])
//! whose bootstrap is the real [`MembraneServer`], so every call on a
//! grafted capability flows through `ww_provider_sdk::proxy::wrap` with
//! the epoch's [`EpochGuard`](ww_core::epoch::EpochGuard).
//!
//! An input is one control byte and then the bytes of the transport:
//!
//! - bit 0: end the epoch part-way through (revocation while calls are in
//!   flight, holds released, later calls refused `staleEpoch`);
//! - bits 1–3: the size of the pieces the bytes arrive in, `16 << n`;
//! - bit 4: tight RPC limits ([`TIGHT`]: two calls in flight, 4 KiB of
//!   calls and of unread answers, four capabilities), so the
//!   back-pressure and the capability bound are reached;
//! - bit 5: the host calls the capability the cell exports (its
//!   bootstrap, as the node calls pid0's `Shell`), so the cell's bytes
//!   answer a question of the host's.
//!
//! Besides never panicking, what must hold: the host never has more of
//! the cell's calls in flight than its limit allows (it stops reading
//! instead).

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures::future::LocalBoxFuture;
use tokio::io::DuplexStream;
use ww_capnp::membrane_capnp::membrane;
use ww_core::epoch::Epochs;
use ww_core::membrane::MembraneServer;
use ww_core::rpc_budget::{CellBudget, RpcLimits};

use crate::{drain, exports, feed, idle, run_local, TURNS};

/// The control byte's bit that ends the epoch part-way.
pub const ADVANCE_EPOCH: u8 = 1;
/// The control byte's bit that puts the cell under [`TIGHT`] limits.
pub const TIGHT_LIMITS: u8 = 16;
/// The control byte's bit that makes the host call the cell's export.
pub const CALL_EXPORT: u8 = 32;

/// The limits of [`TIGHT_LIMITS`].
pub const TIGHT: RpcLimits = RpcLimits {
    calls: 2,
    call_bytes: 4096,
    queued_bytes: 4096,
    caps: 4,
};

/// The size of the pieces the transport bytes arrive in, from the control
/// byte.
pub fn chunk_of(control: u8) -> usize {
    16 << ((control >> 1) & 7)
}

/// The limits the control byte asks for.
pub fn limits_of(control: u8) -> RpcLimits {
    if control & TIGHT_LIMITS != 0 {
        TIGHT
    } else {
        RpcLimits::default()
    }
}

/// Serves one input to a fresh membrane. Returns whether the vat ended
/// within the harness's turns (it does when the input ends, unless a call
/// is still parked).
///
/// # Panics
///
/// When the host holds more of the cell's calls than its limit.
pub fn serve(input: &[u8]) -> bool {
    let Some((&control, frames)) = input.split_first() else {
        return true;
    };
    let frames = frames.to_vec();
    let limits = limits_of(control);
    let budget = CellBudget::new("fuzz", limits);
    let held = budget.clone();
    let ended = run_local(TURNS, move || async move {
        let (host_end, cell) = tokio::io::duplex(64 * 1024);
        let (cell_read, cell_write) = tokio::io::split(cell);
        tokio::task::spawn_local(feed(cell_write, frames, chunk_of(control)));
        tokio::task::spawn_local(drain(cell_read, Rc::default()));
        host(host_end, control, budget).await;
    });
    let (calls, ..) = held.held();
    assert!(
        calls <= limits.calls,
        "the host holds {calls} of the cell's calls, over its limit of {}",
        limits.calls
    );
    ended
}

/// The host's side of a cell's vat on `stream`, as the node runs it for
/// `control` (see the module docs): ends when the vat does.
pub fn host(
    stream: DuplexStream,
    control: u8,
    budget: Rc<CellBudget>,
) -> LocalBoxFuture<'static, ()> {
    Box::pin(async move {
        let epochs = Rc::new(Epochs::new());
        let membrane = Rc::new(MembraneServer::new(
            exports(),
            epochs.clone(),
            budget.clone(),
        ));
        let (exported, vat) = ww_core::vat::connect(stream, membrane.client().client, budget);
        if control & ADVANCE_EPOCH != 0 {
            tokio::task::spawn_local(async move {
                idle(TURNS / 8).await;
                epochs.advance(Vec::new());
            });
        }
        if control & CALL_EXPORT != 0 {
            let export = membrane::Client { client: exported };
            tokio::task::spawn_local(async move {
                let _ = export.epoch_request().send().promise.await;
            });
        }
        vat.await;
    })
}

/// A writer that keeps a copy of everything written through it: the seed
/// generator records what a real client vat sends.
pub struct Recording<W> {
    /// Where the bytes go.
    pub inner: W,
    /// Every byte written, in order.
    pub copy: Rc<RefCell<Vec<u8>>>,
}

impl<W: futures::AsyncWrite + Unpin> futures::AsyncWrite for Recording<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            this.copy.borrow_mut().extend_from_slice(&buf[..n]);
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
