//! The plugin side of a dynamically loaded provider.
//!
//! `connect` gives the provider a thread of its own with a current-thread
//! tokio runtime and a `LocalSet` (no runtime is shared across the
//! boundary), constructs the provider there, and serves a `Plugin`
//! bootstrap over the byte stream. `Plugin.start` runs [`Provider::start`]
//! and wraps every export with [`CatchPanics`], so a method that panics fails
//! that call only. The thread ends when the host closes its end of the stream.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use capnp_rpc::{rpc_twoparty_capnp::Side, twoparty, RpcSystem};
use futures::FutureExt;
use ww_capnp::provider_capnp::plugin;

use crate::bridge::{self, SinkReader, SinkWriter};
use crate::error::{panic_message, Error};
use crate::export::{read_list, write_list, Export};
use crate::ffi::{HostLink, PluginLink};
use crate::logs::Forward;
use crate::provider::{Context, Provider};
use crate::proxy::{wrap, CatchPanics};
use crate::registry::Factory;

/// Starts the provider's thread and returns the sink the host writes to.
///
/// `global_logs` also makes the forwarding subscriber this library's global
/// default (right in a `cdylib`, whose `tracing` is its own; wrong in a
/// process that shares the host's `tracing`, such as a test).
pub(crate) fn connect(
    factory: Factory,
    host: HostLink,
    global_logs: bool,
) -> Result<PluginLink, String> {
    let HostLink {
        to_host,
        log,
        max_level,
    } = host;
    let (to_plugin, reader) = bridge::channel();
    let writer = SinkWriter::new(to_host);
    let forward = Forward::new(log, max_level);
    std::thread::Builder::new()
        .name("ww-provider".to_string())
        .spawn(move || run(factory, reader, writer, forward, global_logs))
        .map_err(|e| format!("cannot start the provider's thread: {e}"))?;
    Ok(PluginLink { to_plugin })
}

/// The provider's thread: logs forwarded, every outcome reported, no unwind.
fn run(factory: Factory, reader: SinkReader, writer: SinkWriter, forward: Forward, global: bool) {
    let dispatch = tracing::Dispatch::new(forward.subscriber());
    if global {
        // Fails harmlessly when this library already set one.
        let _ = tracing::dispatcher::set_global_default(dispatch.clone());
        forward_panics();
    }
    let _default = tracing::dispatcher::set_default(&dispatch);
    match catch_unwind(AssertUnwindSafe(|| serve(factory, reader, writer))) {
        Ok(Ok(())) => tracing::debug!("the host closed the provider link; provider stopped"),
        Ok(Err(e)) => tracing::error!("provider stopped: {e}"),
        Err(payload) => tracing::error!(
            "provider thread panicked: {}; its capabilities now fail with Disconnected",
            panic_message(payload.as_ref())
        ),
    }
}

/// Reports this library's panics as log events instead of writing to the
/// host's stderr. A `cdylib` has its own copy of `std`, so this hook sees
/// only the plugin's panics; the host's own hook is untouched.
pub(crate) fn forward_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let location = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_else(|| "an unknown location".to_string());
            let message = panic_message(info.payload());
            tracing::error!(target: "ww::provider::panic", "panic at {location}: {message}");
        }));
    });
}

/// Runs the vat until the host closes the link.
fn serve(factory: Factory, reader: SinkReader, writer: SinkWriter) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build the provider's tokio runtime: {e}"))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let provider: Rc<dyn Provider> = Rc::from(factory());
        let network = twoparty::VatNetwork::new(reader, writer, Side::Server, Default::default());
        let bootstrap: plugin::Client = capnp_rpc::new_client(PluginServer::new(provider));
        let rpc = RpcSystem::new(Box::new(network), Some(bootstrap.client));
        match tokio::task::spawn_local(rpc).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("the provider's vat failed: {e}")),
            Err(e) if e.is_panic() => Err(format!(
                "the provider's vat panicked: {}",
                panic_message(e.into_panic().as_ref())
            )),
            Err(e) => Err(format!("the provider's vat was cancelled: {e}")),
        }
    })
}

/// The bootstrap capability: starts the provider once.
pub(crate) struct PluginServer {
    provider: Rc<dyn Provider>,
    name: String,
    started: Cell<bool>,
}

impl PluginServer {
    /// Serves `provider`, not yet started.
    pub(crate) fn new(provider: Rc<dyn Provider>) -> PluginServer {
        let name = provider.manifest().name;
        PluginServer {
            provider,
            name,
            started: Cell::new(false),
        }
    }
}

impl plugin::Server for PluginServer {
    async fn start(
        self: Rc<Self>,
        params: plugin::StartParams,
        mut results: plugin::StartResults,
    ) -> Result<(), capnp::Error> {
        if self.started.replace(true) {
            return Err(capnp::Error::failed(format!(
                "provider `{}` was already started; start it once",
                self.name
            )));
        }
        let ctx = read_context(params)?;
        // The host names the provider and says it failed to start: send
        // only the reason, so the operator reads each thing once.
        // A refused value keeps its kind across the vat (`refused`): the
        // host exits asking for another value, not reporting a failure.
        let exports = match start_caught(&self.provider, &self.name, ctx).await {
            Ok(exports) => exports,
            Err(Error::Config { key, reason }) => {
                let mut refused = results.get().init_refused();
                refused.set_key(key.as_str());
                refused.set_reason(reason.as_str());
                return Ok(());
            }
            Err(e) => return Err(capnp::Error::failed(e.reason())),
        };
        let wrapped: Vec<Export> = exports
            .into_iter()
            .map(|e| {
                let cap = wrap(e.cap.clone(), CatchPanics::new(self.name.as_str()))?;
                Ok(e.with_cap(cap))
            })
            .collect::<capnp::Result<_>>()?;
        let len = u32::try_from(wrapped.len())
            .map_err(|_| capnp::Error::failed("too many exports".into()))?;
        write_list(&wrapped, results.get().init_exports(len))
    }
}

/// The config and required capabilities of a `Plugin.start` call.
fn read_context(params: plugin::StartParams) -> capnp::Result<Context> {
    let params = params.get()?;
    let mut config = BTreeMap::new();
    for setting in params.get_config()? {
        let key = setting.get_key()?.to_string()?;
        let value = setting.get_value()?.to_string()?;
        config.insert(key, value);
    }
    let requires = read_list(params.get_requires()?)?;
    Ok(Context::new(config, requires))
}

/// [`Provider::start`], with a panic turned into [`Error::Panicked`].
pub(crate) async fn start_caught(
    provider: &Rc<dyn Provider>,
    name: &str,
    ctx: Context,
) -> Result<Vec<Export>, Error> {
    let panicked = |payload: Box<dyn std::any::Any + Send>| Error::Panicked {
        provider: name.to_string(),
        message: panic_message(payload.as_ref()),
    };
    let future = catch_unwind(AssertUnwindSafe(|| provider.start(ctx))).map_err(panicked)?;
    AssertUnwindSafe(future)
        .catch_unwind()
        .await
        .map_err(panicked)?
}
