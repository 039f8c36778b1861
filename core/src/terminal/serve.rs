//! The terminal on the network, so `ww shell <multiaddr>` reaches a node.
//!
//! The node serves its `Terminal` as the bootstrap of a Cap'n Proto vat on
//! [`PROTOCOL`], through the host provider's `VatListener`: the same path a
//! cell's own vat takes over libp2p (admission limits, the verdict byte),
//! so there is one RPC-over-stream path in ww, not two. The core claims the
//! protocol before pid0 starts, so no cell can serve a fake terminal there.
//!
//! What a login opens is a session membrane: everything a cell may graft,
//! plus pid0's exported capability as [`SHELL_EXPORT`] (std/kernel exports
//! its `Shell` there). Whoever holds an allowed key therefore has the
//! node's full authority; allow keys accordingly.

use std::rc::Rc;

use capnp::traits::HasTypeId;
use ed25519_dalek::VerifyingKey;
use ww_capnp::membrane_capnp::{membrane, terminal};
use ww_capnp::schema::{builtin, SchemaNode};
use ww_capnp::shell_capnp::shell;
use ww_capnp::system_capnp::{host, vat_listener};
use ww_provider_sdk::Export;

use super::TerminalServer;
use crate::epoch::Epochs;
use crate::membrane::MembraneServer;

/// The libp2p protocol of a node's terminal (a vat whose bootstrap is
/// `Terminal(Membrane)`).
pub const PROTOCOL: &str = "/ww/terminal/1.0.0";

/// The session membrane's name for pid0's exported capability.
pub const SHELL_EXPORT: &str = "shell";

/// The name of the host provider's export the terminal is served through.
const HOST_EXPORT: &str = "host";

/// A terminal being served; serving stops when this is dropped.
pub struct Served {
    _listener: vat_listener::Client,
    /// A command that reaches this terminal (`ww shell <addr>/p2p/<id>`).
    pub command: String,
}

/// The membrane a login opens: `exports` and pid0's exported capability
/// (its `Shell`, for std/kernel), guarded by `epochs` like a cell's.
///
/// # Errors
///
/// Only if the built-in schemas lack `Shell` (a build error).
pub fn session(
    mut exports: Vec<Export>,
    pid0: capnp::capability::Client,
    epochs: Rc<Epochs>,
    budget: Rc<crate::rpc_budget::CellBudget>,
) -> capnp::Result<membrane::Client> {
    let schema = SchemaNode::from_set(&builtin(), shell::Client::TYPE_ID)?;
    exports.push(Export::new(SHELL_EXPORT, pid0, schema));
    Ok(MembraneServer::new(exports, epochs, budget).into_client())
}

/// Serves a terminal in front of `session` for the holders of `allowed`
/// keys on [`PROTOCOL`], through the `host` export among `exports`.
/// Returns `None` when the node has no host provider (no network).
///
/// # Errors
///
/// When the host refuses to serve the protocol.
pub async fn serve(
    exports: &[Export],
    session: membrane::Client,
    allowed: Vec<VerifyingKey>,
    epochs: Rc<Epochs>,
) -> capnp::Result<Option<Served>> {
    let Some(export) = exports.iter().find(|x| x.name == HOST_EXPORT) else {
        return Ok(None);
    };
    let host = host::Client {
        client: export.cap.clone(),
    };
    let terminal: terminal::Client<membrane::Owned> =
        TerminalServer::new(session, allowed, epochs).into_client();
    let network = host.network_request().send().promise.await?;
    let listener = network.get()?.get_vat_listener()?;
    let mut request = listener.serve_request();
    request.get().set_protocol(PROTOCOL);
    request
        .get()
        .init_cap()
        .set_as_capability(terminal.client.hook);
    request.send().promise.await?;

    let id = host.id_request().send().promise.await?;
    let id = id.get()?.get_peer_id()?.to_string()?;
    let addrs = host.addrs_request().send().promise.await?;
    let addrs: Vec<String> = addrs
        .get()?
        .get_addrs()?
        .iter()
        .filter_map(|a| a.ok()?.to_string().ok())
        .collect();
    // TCP first: every libp2p build speaks it.
    let addr = addrs
        .iter()
        .find(|a| a.contains("/tcp/"))
        .or(addrs.first())
        .cloned()
        .unwrap_or_else(|| format!("<multiaddr>/p2p/{id}"));
    Ok(Some(Served {
        _listener: listener,
        command: format!("ww shell {addr}"),
    }))
}
