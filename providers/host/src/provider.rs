//! The provider: reads its config, starts the swarm thread, exports `host`
//! (to guests), `dht` and `wire` (to providers only).

use capnp::traits::HasTypeId;
use futures::future::LocalBoxFuture;
use ww_capnp::dht_capnp::dht;
use ww_capnp::schema::{builtin, SchemaNode};
use ww_capnp::system_capnp::host;
use ww_capnp::wire_capnp::wire;
use ww_provider_sdk::manifest::{Audience, ExportDecl, Manifest};
use ww_provider_sdk::{Context, Error, Export, Provider};

use crate::config::{self, Settings};
use crate::dht::DhtImpl;
use crate::host::HostImpl;
use crate::wire::WireImpl;

/// The name `Host` is exported under, to guests.
pub const EXPORT_NAME: &str = "host";

/// The name `Dht` is exported under, to providers only.
pub const DHT_EXPORT_NAME: &str = "dht";

/// The name `Wire` (standard stream protocols) is exported under, to
/// providers only.
pub const WIRE_EXPORT_NAME: &str = "wire";

/// The node's libp2p host.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostProvider;

/// The host provider, as the core's built-in table wants it.
pub fn provider() -> HostProvider {
    HostProvider
}

impl Provider for HostProvider {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "host".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            exports: vec![
                ExportDecl {
                    name: EXPORT_NAME.to_string(),
                    audience: Audience::Guests,
                },
                ExportDecl {
                    name: DHT_EXPORT_NAME.to_string(),
                    audience: Audience::Providers,
                },
                ExportDecl {
                    name: WIRE_EXPORT_NAME.to_string(),
                    audience: Audience::Providers,
                },
            ],
            requires: Vec::new(),
            config: config::keys(),
        }
    }

    fn schemas(&self) -> Vec<(String, SchemaNode)> {
        ww_provider_sdk::provider::builtin_schemas(&[
            (EXPORT_NAME, host::Client::TYPE_ID),
            (DHT_EXPORT_NAME, dht::Client::TYPE_ID),
            (WIRE_EXPORT_NAME, wire::Client::TYPE_ID),
        ])
    }

    fn start(&self, ctx: Context) -> LocalBoxFuture<'static, Result<Vec<Export>, Error>> {
        let settings = Settings::from_context(&ctx);
        Box::pin(async move {
            let settings = settings?;
            let (limits, vat_limits) = (settings.limits, settings.vat_limits);
            let swarm = crate::driver::spawn(settings).await?;
            tracing::debug!(peer = %swarm.peer_id(), "host provider started");
            let dht_cap: dht::Client = capnp_rpc::new_client(DhtImpl::new(swarm.clone()));
            let wire_cap: wire::Client = capnp_rpc::new_client(WireImpl::new(swarm.clone()));
            let cap: host::Client = capnp_rpc::new_client(HostImpl::new(swarm, limits, vat_limits));
            let schema = SchemaNode::from_set(&builtin(), host::Client::TYPE_ID)?;
            let dht_schema = SchemaNode::from_set(&builtin(), dht::Client::TYPE_ID)?;
            let wire_schema = SchemaNode::from_set(&builtin(), wire::Client::TYPE_ID)?;
            Ok(vec![
                Export::new(EXPORT_NAME, cap.client, schema),
                Export::new(DHT_EXPORT_NAME, dht_cap.client, dht_schema),
                Export::new(WIRE_EXPORT_NAME, wire_cap.client, wire_schema),
            ])
        })
    }
}
