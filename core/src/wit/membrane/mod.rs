//! `wetware:membrane/membrane`: `graft` and `epoch`, answered by the cell's
//! own [`MembraneServer`](crate::membrane::MembraneServer) (the one its RPC
//! vat bootstraps), called directly: both doors hand out the same grant of
//! epoch-guarded capabilities.

use std::rc::Rc;

use capnp::traits::HasTypeId;
use ww_provider_sdk::capnp;
use ww_provider_sdk::ww_capnp::identity_capnp::identity;
use ww_provider_sdk::ww_capnp::ipfs_capnp::ipfs;
use ww_provider_sdk::ww_capnp::routing_capnp::routing;
use ww_provider_sdk::ww_capnp::system_capnp::{executor, host};
use ww_provider_sdk::Export;

use super::executor::Executor;
use super::host::Node;
use super::identity::Identity;
use super::ipfs::Ipfs;
use super::routing::Routing;
use super::wetware::membrane::membrane::{Caps, EpochInfo, Host};
use super::{client, Local, WitCtxView, WitError};
use crate::membrane::Grant;

type Answer<T> = wasmtime::Result<Result<T, WitError>>;

/// The export `name`, if the graft has it and it is of the interface WIT
/// mirrors (a provider exporting another interface under a standard name
/// stays reachable through the vat only).
fn typed<'a, C: HasTypeId>(exports: &'a [Export], name: &str) -> Option<&'a Export> {
    exports
        .iter()
        .find(|e| e.name == name && e.schema.id() == C::TYPE_ID)
}

impl Host for WitCtxView<'_> {
    async fn graft(&mut self) -> Answer<Caps> {
        let Some(membrane) = self.ctx.membrane.as_ref().map(|m| (**m).clone()) else {
            return Ok(Err(WitError::Disconnected(
                "this cell was started without a membrane: it has no capabilities".into(),
            )));
        };
        // The same grant the vat's `graft` writes into its reply.
        let Grant {
            epoch,
            guard,
            exports,
        } = match membrane.grant() {
            Ok(grant) => grant,
            Err(e) => return Ok(Err(crate::wit::error::to_wit(&e))),
        };
        let epoch = EpochInfo {
            seq: epoch.seq,
            head: epoch.head,
        };
        let exports: Rc<[Export]> = exports.into();
        let names = exports.iter().map(|e| e.name.clone()).collect();
        let identity =
            typed::<identity::Client>(&exports, "identity").map(|e| Identity::new(e, &guard));
        let host = typed::<host::Client>(&exports, "host").map(|e| Node(Local::new(client(e))));
        let executor = typed::<executor::Client>(&exports, "executor")
            .map(|e| Executor::granted(e, &guard, exports.clone()));
        let ipfs = typed::<ipfs::Client>(&exports, "ipfs").map(|e| Ipfs(Local::new(client(e))));
        let routing =
            typed::<routing::Client>(&exports, "routing").map(|e| Routing(Local::new(client(e))));
        Ok(Ok(Caps {
            epoch,
            identity: identity.map(|r| self.table.push(r)).transpose()?,
            host: host.map(|r| self.table.push(r)).transpose()?,
            executor: executor.map(|r| self.table.push(r)).transpose()?,
            routing: routing.map(|r| self.table.push(r)).transpose()?,
            ipfs: ipfs.map(|r| self.table.push(r)).transpose()?,
            names,
        }))
    }

    async fn epoch(&mut self) -> Answer<EpochInfo> {
        let Some(membrane) = self.ctx.membrane.as_ref() else {
            return Ok(Err(WitError::Disconnected(
                "this cell was started without a membrane".into(),
            )));
        };
        let epoch = membrane.current_epoch();
        Ok(Ok(EpochInfo {
            seq: epoch.seq,
            head: epoch.head,
        }))
    }
}
