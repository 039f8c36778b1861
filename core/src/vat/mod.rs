//! The host side of a cell's RPC vat.
//!
//! The vat runs on [`network::CellNetwork`], which charges the cell's
//! [`CellBudget`]: reads are limited relative to each message's size, the
//! node stops reading while the cell is at a bound, and what waits unread
//! toward the cell is counted.

pub mod network;

use std::rc::Rc;

use capnp_rpc::rpc_twoparty_capnp::Side;
use capnp_rpc::RpcSystem;
use futures::future::LocalBoxFuture;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
use ww_provider_sdk::capnp;

use crate::rpc_budget::CellBudget;
use network::CellNetwork;

/// Bytes read from a cell's connection ahead of what was parsed.
const READ_BUFFER: usize = 8 << 10;

/// Serves `bootstrap` to the cell on the other end of `stream` (a Wasm
/// cell's in-process pipe, or a native cell's Unix socket) until either
/// side closes it, and returns the capability the cell exports on its side
/// of the vat (its bootstrap; calls on it fail if the cell exports none).
/// The returned future drives the vat and must be spawned.
///
/// A cell that breaks the protocol (a malformed frame, an oversized
/// message) loses its connection and, through `budget`, every other door:
/// its WIT imports fail from then on too. The node goes on.
pub fn connect<S: AsyncRead + AsyncWrite + 'static>(
    stream: S,
    bootstrap: capnp::capability::Client,
    budget: Rc<CellBudget>,
) -> (capnp::capability::Client, LocalBoxFuture<'static, ()>) {
    let (read, write) = tokio::io::split(stream);
    // A message's header and body in one read where they arrived together
    // (at most READ_BUFFER bytes beyond what was parsed wait in the node).
    let read = futures::io::BufReader::with_capacity(READ_BUFFER, read.compat());
    let network = CellNetwork::new(read, write.compat_write(), budget.clone());
    let mut rpc = RpcSystem::new(Box::new(network), Some(bootstrap));
    let exported: capnp::capability::Client = rpc.bootstrap(Side::Client);
    (exported, Box::pin(drive(rpc, budget)))
}

async fn drive(rpc: RpcSystem<Side>, budget: Rc<CellBudget>) {
    let cell = budget.cell().to_string();
    match rpc.await {
        Ok(()) => tracing::debug!(%cell, "RPC connection closed"),
        Err(e) => {
            budget.close(format!("it broke its RPC connection ({e})"));
            tracing::warn!(
                %cell,
                "cell broke its RPC connection (malformed, truncated or oversized Cap'n Proto \
                 message?): {e}; its capabilities are gone, through every door; the cell keeps \
                 running"
            );
        }
    }
}
