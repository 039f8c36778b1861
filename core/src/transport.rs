//! `wetware:rpc/transport`: the pipe that carries a cell's RPC vat.
//!
//! The host end is a tokio duplex stream on which the core runs a Cap'n Proto
//! two-party vat; the guest end is a pair of WASI streams handed out once by
//! `transport.connect()`. The guest waits on those streams' pollables, so a
//! reply wakes it at once (no polling timer anywhere on the path).

use tokio::io::DuplexStream;
use wasmtime::component::Resource;
use wasmtime_wasi::p2::bindings::io::streams::{InputStream, OutputStream};
use wasmtime_wasi::p2::pipe::{AsyncReadStream, AsyncWriteStream};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};

use crate::cell::CellState;

wasmtime::component::bindgen!({
    path: "../wit/rpc",
    world: "wetware:rpc/cell",
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::io,
    },
    // Cells run on async stores, whose data must be `Send`.
    require_store_data_send: true,
});

pub use wetware::rpc::transport::add_to_linker;

/// Bytes buffered in each direction before a writer waits for the reader.
const BUFFER: usize = 64 * 1024;

/// The guest's end of the RPC pipe, until the guest takes it.
#[derive(Default)]
pub struct GuestEnd {
    streams: Option<(DynInputStream, DynOutputStream)>,
}

/// A connected pair: the host end (for the vat) and the guest end (for the
/// cell's `transport.connect()`).
///
/// Must be called inside a tokio runtime: the WASI stream adapters run
/// small tasks on it.
pub fn pipe() -> (DuplexStream, GuestEnd) {
    let (host, guest) = tokio::io::duplex(BUFFER);
    let (read, write) = tokio::io::split(guest);
    let input: DynInputStream = Box::new(AsyncReadStream::new(read));
    let output: DynOutputStream = Box::new(AsyncWriteStream::new(BUFFER, write));
    (
        host,
        GuestEnd {
            streams: Some((input, output)),
        },
    )
}

impl wetware::rpc::transport::Host for CellState {
    fn connect(&mut self) -> Result<(Resource<InputStream>, Resource<OutputStream>), String> {
        let (input, output) = self.transport.streams.take().ok_or_else(|| {
            "this cell already holds its RPC connection (transport.connect may be called once)"
                .to_string()
        })?;
        let table = &mut self.table;
        let input = table.push(input).map_err(|e| e.to_string())?;
        let output = table.push(output).map_err(|e| e.to_string())?;
        Ok((input, output))
    }
}
