//! The WIT door of the membrane: the `wit/` worlds (`wetware:membrane` and
//! the capability families it grants), implemented on the host.
//!
//! A cell can reach its capabilities two ways: Cap'n Proto over its RPC vat
//! ([`vat`](crate::vat)), or typed WIT imports. Both doors open onto the
//! same membrane: `membrane.graft` here takes the same grant from the
//! cell's own [`MembraneServer`](crate::membrane::MembraneServer) as the
//! vat's `graft` (the current epoch's guard and every export wrapped with
//! it) and holds the guarded capabilities as WIT resources; methods forward
//! to them. So the epoch guard applies to both doors alike (a revoked
//! resource reports the typed `stale-epoch` error), and nothing is
//! reachable through WIT that the vat would not grant. A capability with no
//! WIT here (a third-party provider's) is listed by name and stays
//! reachable through the vat and its schema only.
//!
//! Calls that finish at once (`identity.public-key`, `executor.echo`) skip
//! Cap'n Proto when the provider serving the capability opted into the
//! SDK's [`direct`](ww_provider_sdk::direct) traits and runs on the node's
//! thread (a built-in one): they run the provider's own method, the one
//! its capability serves, after the guard's check (`Guarded`). The door
//! knows the interface, never the provider's type; a provider library or
//! process has no such object and its calls take the capability (the
//! loader logs which exports). Building and dispatching an in-process
//! request costs several times the host call itself (bench/RESULTS.md).
//!
//! One folder per WIT interface, in the style of wasmtime-wasi: the
//! resource types and their `Host*` impls live in `<interface>/mod.rs`.
//!
//! Hazard: capability clients are single-threaded (`Rc`) while Wasmtime
//! requires `Send` store data and host futures. Cells run on the node's one
//! thread (a `LocalSet`), so the clients are held in [`Local`]
//! (`send_wrapper`), which checks that they never leave it.

mod error;
mod executor;
mod host;
mod identity;
mod ipfs;
mod membrane;
mod routing;
mod streams;

use std::future::Future;

use send_wrapper::SendWrapper;
use std::rc::Rc;
use wasmtime::component::{HasData, Linker, ResourceTable};

use ww_provider_sdk::capnp::capability::FromClientHook;
use ww_provider_sdk::Export;

use crate::epoch::EpochGuard;
use crate::membrane::MembraneServer;

pub use error::to_wit as error_to_wit;

/// Generated from `wit/membrane` (world `minimal`).
#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/membrane",
        world: "wetware:membrane/minimal",
        // Every method forwards to a capability call; a bad resource handle is
        // a guest bug and traps.
        imports: { default: async | trappable },
        with: {
            "wetware:types/streams.byte-stream": crate::wit::streams::ByteStream,
            "wetware:identity/identity.identity": crate::wit::identity::Identity,
            "wetware:identity/identity.signer": crate::wit::identity::Signer,
            "wetware:host/host.node": crate::wit::host::Node,
            "wetware:host/host.stream-listener": crate::wit::host::StreamListener,
            "wetware:host/host.stream-dialer": crate::wit::host::StreamDialer,
            "wetware:host/host.incoming": crate::wit::host::Incoming,
            "wetware:executor/executor.executor": crate::wit::executor::Executor,
            "wetware:executor/executor.runtime": crate::wit::executor::Runtime,
            "wetware:executor/executor.process": crate::wit::executor::Process,
            "wetware:routing/routing.routing": crate::wit::routing::Routing,
            "wetware:ipfs/ipfs.ipfs": crate::wit::ipfs::Ipfs,
            "wetware:ipfs/ipfs.unixfs": crate::wit::ipfs::Unixfs,
            "wetware:ipfs/ipfs.add-writer": crate::wit::ipfs::AddWriter,
        },
        require_store_data_send: true,
    });
}

use bindings::{wetware, Minimal};

use wetware::types::errors::Error as WitError;

/// A single-threaded value held in `Send` Wasmtime state: usable only on the
/// node's thread, which is the only thread cells run on.
pub type Local<T> = SendWrapper<T>;

/// What a cell's WIT door works on: its membrane.
pub struct WitCtx {
    membrane: Option<Local<Rc<MembraneServer>>>,
}

impl WitCtx {
    /// The WIT door onto `membrane` (the same one the cell's vat serves).
    pub fn new(membrane: Rc<MembraneServer>) -> WitCtx {
        WitCtx {
            membrane: Some(SendWrapper::new(membrane)),
        }
    }

    /// A door with no membrane behind it: every graft fails (cells run
    /// without one only in tests of the runner itself).
    pub fn closed() -> WitCtx {
        WitCtx { membrane: None }
    }
}

impl Default for WitCtx {
    fn default() -> Self {
        Self::closed()
    }
}

/// Access to a store's WIT door state (the same shape as wasmtime-wasi's
/// `WasiView`).
pub trait WitView: Send {
    /// The door and the table its resources live in.
    fn wit(&mut self) -> WitCtxView<'_>;
}

/// What the host implementations work on, borrowed from the store.
pub struct WitCtxView<'a> {
    /// The door.
    pub ctx: &'a mut WitCtx,
    /// The store's resource table.
    pub table: &'a mut ResourceTable,
}

struct HasWit;

impl HasData for HasWit {
    type Data<'a> = WitCtxView<'a>;
}

/// Links the `wetware:membrane/minimal` world's imports (the membrane and
/// every capability family) for any store whose data is a [`WitView`].
///
/// # Errors
///
/// Only if Wasmtime rejects the definitions (a bug).
pub fn add_to_linker<T: WitView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    Minimal::add_to_linker::<T, HasWit>(linker, T::wit)
}

/// The object serving a guarded capability in this process (a provider's
/// [`direct`](ww_provider_sdk::direct) object), for WIT calls that skip
/// Cap'n Proto: they run the very methods the capability serves, after the
/// check the epoch guard makes on every call (a revoked resource reports
/// `stale-epoch` as the capability would). Only calls that finish at once
/// take this path, so there is nothing in flight for revocation to race;
/// the rest go through the guarded capability.
pub(crate) struct Guarded<T: ?Sized> {
    guard: EpochGuard,
    server: Rc<T>,
}

impl<T: ?Sized> Guarded<T> {
    /// `server`, admitted by `guard`.
    pub(crate) fn new(server: Rc<T>, guard: &EpochGuard) -> Local<Guarded<T>> {
        Local::new(Guarded {
            guard: guard.clone(),
            server,
        })
    }

    /// The object, if the guard admits a call now.
    pub(crate) fn admit(&self) -> Result<&T, WitError> {
        self.guard.check().map_err(|e| error::to_wit(&e))?;
        Ok(&self.server)
    }
}

/// `export`'s capability as a typed client.
fn client<C: FromClientHook>(export: &Export) -> C {
    C::new(export.cap.hook.add_ref())
}

/// Runs a capability call (not `Send`) inside a `Send` host future; the
/// output crosses back, so it must be `Send` itself (wrap clients in
/// [`Local`]).
fn local<F: Future + 'static>(call: F) -> SendWrapper<F> {
    SendWrapper::new(call)
}

/// A WIT `result` from a capability call's outcome.
fn wit<T>(r: Result<T, ww_provider_sdk::capnp::Error>) -> Result<T, WitError> {
    r.map_err(|e| error::to_wit(&e))
}
