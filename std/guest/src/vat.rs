//! The cell's Cap'n Proto RPC vat, over the host's `wetware:rpc` streams.
//!
//! The host is the server side of a two-party vat and bootstraps a
//! [`Membrane`](membrane::Client); the guest is the client side. The returned
//! [`RpcSystem`] must be driven (polled) for any call to make progress:
//! [`crate::run`] does that for you.

use capnp_rpc::rpc_twoparty_capnp::Side;
use capnp_rpc::{twoparty, RpcSystem};
use ww_capnp::membrane_capnp::membrane;

use crate::bindings::transport;
use crate::io::{StreamReader, StreamWriter};
use crate::Error;

/// Opens the vat and bootstraps the host's Membrane.
///
/// # Errors
///
/// [`Error::Connect`] when the host refuses the transport (a cell has one
/// vat: a second `connect` fails).
pub fn connect() -> Result<(membrane::Client, RpcSystem<twoparty::VatId>), Error> {
    connect_exporting(None)
}

/// Like [`connect`], and serves `export` to the host as this cell's own
/// capability (what a parent gets from `Process.bootstrap()`).
///
/// # Errors
///
/// As [`connect`].
pub fn connect_exporting(
    export: Option<capnp::capability::Client>,
) -> Result<(membrane::Client, RpcSystem<twoparty::VatId>), Error> {
    let (reader, writer) = raw_transport()?;
    let network = twoparty::VatNetwork::new(reader, writer, Side::Client, Default::default());
    let mut rpc_system = RpcSystem::new(Box::new(network), export);
    let membrane: membrane::Client = rpc_system.bootstrap(Side::Server);
    Ok((membrane, rpc_system))
}

/// The vat's byte streams, without Cap'n Proto on top: for tests that speak
/// to the host's end of the vat directly (e.g. send it garbage).
///
/// # Errors
///
/// [`Error::Connect`] when the host refuses the transport.
#[doc(hidden)]
pub fn raw_transport() -> Result<(StreamReader, StreamWriter), Error> {
    let (input, output) = transport::connect().map_err(Error::Connect)?;
    Ok((StreamReader::new(input), StreamWriter::new(output)))
}
