//! The cell's side of its vat: Cap'n Proto two-party RPC on fd 3, whose
//! bootstrap is the node's `Membrane`. This is all a native cell needs to
//! reach its capabilities.

use std::os::fd::FromRawFd;

use capnp_rpc::rpc_twoparty_capnp::Side;
use capnp_rpc::{twoparty, RpcSystem};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
use ww_capnp::membrane_capnp::membrane;

/// The descriptor the node puts the cell's RPC socket at.
pub const RPC_FD: i32 = 3;

/// Opens the vat on fd 3 and drives it on the current `LocalSet`; returns
/// the node's membrane.
pub fn connect() -> std::io::Result<membrane::Client> {
    // SAFETY: the Cell API gives the cell fd 3, a Unix socket, to own.
    let socket = unsafe { std::os::unix::net::UnixStream::from_raw_fd(RPC_FD) };
    socket.set_nonblocking(true)?;
    let (read, write) = tokio::net::UnixStream::from_std(socket)?.into_split();
    // Buffered both ways: Cap'n Proto reads and writes a message's header
    // and body separately, and each system call on a socket can wake the
    // other process.
    let network = twoparty::VatNetwork::new(
        futures::io::BufReader::new(read.compat()),
        futures::io::BufWriter::new(write.compat_write()),
        Side::Client,
        Default::default(),
    );
    let mut rpc = RpcSystem::new(Box::new(network), None);
    let membrane: membrane::Client = rpc.bootstrap(Side::Server);
    tokio::task::spawn_local(rpc);
    Ok(membrane)
}
