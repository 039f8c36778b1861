//! The host side of a cell's RPC vat.

use capnp_rpc::rpc_twoparty_capnp::Side;
use capnp_rpc::{twoparty, RpcSystem};
use futures::future::LocalBoxFuture;
use tokio::io::DuplexStream;
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
use ww_provider_sdk::capnp;

/// Serves `bootstrap` to the cell on the other end of `stream` until either
/// side closes it. A cell that breaks the protocol (a malformed frame, an
/// oversized message) loses its connection, and with it its capabilities;
/// the node goes on.
pub async fn serve(stream: DuplexStream, bootstrap: capnp::capability::Client, cell: String) {
    drive(system(stream, bootstrap), cell).await
}

/// Like [`serve`], but also returns the capability the cell exports on its
/// side of the vat (its bootstrap; calls on it fail if the cell exports
/// none). The returned future drives the vat and must be spawned.
pub fn connect(
    stream: DuplexStream,
    bootstrap: capnp::capability::Client,
    cell: String,
) -> (capnp::capability::Client, LocalBoxFuture<'static, ()>) {
    let mut rpc = system(stream, bootstrap);
    let exported: capnp::capability::Client = rpc.bootstrap(Side::Client);
    (exported, Box::pin(drive(rpc, cell)))
}

fn system(stream: DuplexStream, bootstrap: capnp::capability::Client) -> RpcSystem<Side> {
    let (read, write) = tokio::io::split(stream);
    // Default reader limits bound what a guest can make the host allocate
    // (64 MiB traversal, nesting 64).
    let network = twoparty::VatNetwork::new(
        read.compat(),
        write.compat_write(),
        Side::Server,
        capnp::message::ReaderOptions::new(),
    );
    RpcSystem::new(Box::new(network), Some(bootstrap))
}

async fn drive(rpc: RpcSystem<Side>, cell: String) {
    match rpc.await {
        Ok(()) => tracing::debug!(%cell, "RPC connection closed"),
        Err(e) => tracing::warn!(
            %cell,
            "cell broke its RPC connection (malformed or truncated Cap'n Proto message?): {e}; \
             its capabilities are gone, the cell keeps running"
        ),
    }
}
