//! `wetware:rpc/transport`: the pipe that carries a cell's RPC vat.
//!
//! The host end is a tokio duplex stream on which the core runs a Cap'n Proto
//! two-party vat; the guest end is a pair of WASI streams handed out once by
//! `transport.connect()`. The guest waits on those streams' pollables, so a
//! reply wakes it at once (no polling timer anywhere on the path).

use std::rc::Rc;
use tokio::io::DuplexStream;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::io::streams::{InputStream, OutputStream};
use wasmtime_wasi::p2::pipe::{AsyncReadStream, AsyncWriteStream};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};

use crate::membrane::MembraneServer;
use crate::wit::WitCtx;

wasmtime::component::bindgen!({
    path: "../wit/rpc",
    world: "wetware:rpc/cell",
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::io,
    },
    // Cells run on async stores, whose data must be `Send`.
    require_store_data_send: true,
});

/// Bytes buffered in each direction before a writer waits for the reader.
const BUFFER: usize = 64 * 1024;

/// The guest's end of the RPC pipe, until the guest takes it, and its
/// typed WIT door onto the same membrane.
#[derive(Default)]
pub struct GuestEnd {
    streams: Option<(DynInputStream, DynOutputStream)>,
    /// The cell's `wetware:membrane` imports (see [`crate::wit`]).
    pub wit: WitCtx,
}

/// A connected pair: the host end (for the vat serving `membrane`) and the
/// guest end (for the cell's `transport.connect()`, and its WIT door onto
/// the same `membrane`).
///
/// Must be called inside a tokio runtime: the WASI stream adapters run
/// small tasks on it.
pub fn pipe(membrane: &Rc<MembraneServer>) -> (DuplexStream, GuestEnd) {
    let (host, guest) = tokio::io::duplex(BUFFER);
    let (read, write) = tokio::io::split(guest);
    let input: DynInputStream = Box::new(AsyncReadStream::new(read));
    let output: DynOutputStream = Box::new(AsyncWriteStream::new(BUFFER, write));
    (
        host,
        GuestEnd {
            streams: Some((input, output)),
            wit: WitCtx::new(membrane.clone()),
        },
    )
}

/// Access to a store's transport state, so any store type can link
/// `wetware:rpc/transport` (the same shape as wasmtime-wasi's `WasiView`).
pub trait TransportView: Send {
    /// The guest end not yet taken, and the table its streams go into.
    fn transport(&mut self) -> TransportCtxView<'_>;
}

/// What `transport.connect` works on, borrowed from the store.
pub struct TransportCtxView<'a> {
    /// The guest end, until the guest takes it.
    pub end: &'a mut GuestEnd,
    /// The store's resource table.
    pub table: &'a mut ResourceTable,
}

struct HasTransport;

impl HasData for HasTransport {
    type Data<'a> = TransportCtxView<'a>;
}

/// Links `wetware:rpc/transport` for any store whose data is a
/// [`TransportView`].
///
/// # Errors
///
/// Only if Wasmtime rejects the definitions (a bug).
pub fn add_to_linker<T: TransportView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wetware::rpc::transport::add_to_linker::<T, HasTransport>(linker, T::transport)
}

impl wetware::rpc::transport::Host for TransportCtxView<'_> {
    fn connect(&mut self) -> Result<(Resource<InputStream>, Resource<OutputStream>), String> {
        let (input, output) = self.end.streams.take().ok_or_else(|| {
            "this cell already holds its RPC connection (transport.connect may be called once)"
                .to_string()
        })?;
        let input = self.table.push(input).map_err(|e| e.to_string())?;
        let output = self.table.push(output).map_err(|e| e.to_string())?;
        Ok((input, output))
    }
}
