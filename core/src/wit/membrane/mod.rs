//! `wetware:membrane/membrane`: `graft` and `epoch`, answered by the cell's
//! own `Membrane` (the one its RPC vat bootstraps), so both doors hand out
//! the same epoch-guarded capabilities.

use std::rc::Rc;

use capnp::capability::FromClientHook;
use capnp::traits::HasTypeId;
use ww_provider_sdk::capnp;
use ww_provider_sdk::export::Export;
use ww_provider_sdk::ww_capnp::identity_capnp::identity;
use ww_provider_sdk::ww_capnp::ipfs_capnp::ipfs;
use ww_provider_sdk::ww_capnp::routing_capnp::routing;
use ww_provider_sdk::ww_capnp::system_capnp::{executor, host};

use super::executor::Executor;
use super::host::Node;
use super::identity::Identity;
use super::ipfs::Ipfs;
use super::routing::Routing;
use super::wetware::membrane::membrane::{Caps, EpochInfo, Host};
use super::{local, wit, Local, WitCtxView, WitError};

type Answer<T> = wasmtime::Result<Result<T, WitError>>;

/// The export `name`, as a typed client, if the graft has it and it is of
/// the interface WIT mirrors (a provider exporting another interface under
/// a standard name stays reachable through the vat only).
fn typed<C: FromClientHook + HasTypeId>(exports: &[Export], name: &str) -> Option<C> {
    exports
        .iter()
        .find(|e| e.name == name && e.schema.id() == C::TYPE_ID)
        .map(|e| C::new(e.cap.hook.add_ref()))
}

impl Host for WitCtxView<'_> {
    async fn graft(&mut self) -> Answer<Caps> {
        let Some(membrane) = self.ctx.membrane.as_ref().map(|m| (**m).clone()) else {
            return Ok(Err(WitError::Disconnected(
                "this cell was started without a membrane: it has no capabilities".into(),
            )));
        };
        let grafted = local(async move {
            let reply = membrane.graft_request().send().promise.await?;
            let reply = reply.get()?;
            let epoch = reply.get_epoch()?;
            let epoch = EpochInfo {
                seq: epoch.get_seq(),
                head: epoch.get_head()?.to_vec(),
            };
            let exports: Rc<[Export]> = reply
                .get_caps()?
                .iter()
                .map(Export::read)
                .collect::<capnp::Result<Vec<_>>>()?
                .into();
            Ok::<_, capnp::Error>((epoch, Local::new(exports)))
        })
        .await;
        let (epoch, exports) = match wit(grafted) {
            Ok(grafted) => grafted,
            Err(e) => return Ok(Err(e)),
        };
        let exports = exports.take();
        let names = exports.iter().map(|e| e.name.clone()).collect();
        let identity =
            typed::<identity::Client>(&exports, "identity").map(|c| Identity(Local::new(c)));
        let host = typed::<host::Client>(&exports, "host").map(|c| Node(Local::new(c)));
        let executor = typed::<executor::Client>(&exports, "executor")
            .map(|c| Executor::new(c, exports.clone()));
        let ipfs = typed::<ipfs::Client>(&exports, "ipfs").map(|c| Ipfs(Local::new(c)));
        let routing = typed::<routing::Client>(&exports, "routing").map(|c| Routing(Local::new(c)));
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
        let Some(membrane) = self.ctx.membrane.as_ref().map(|m| (**m).clone()) else {
            return Ok(Err(WitError::Disconnected(
                "this cell was started without a membrane".into(),
            )));
        };
        Ok(wit(local(async move {
            let reply = membrane.epoch_request().send().promise.await?;
            let epoch = reply.get()?.get_epoch()?;
            Ok(EpochInfo {
                seq: epoch.get_seq(),
                head: epoch.get_head()?.to_vec(),
            })
        })
        .await))
    }
}
