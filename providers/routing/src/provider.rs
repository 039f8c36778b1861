//! The provider: requires the host's `dht`, exports `routing`.

use capnp::capability::FromClientHook;
use capnp::traits::HasTypeId;
use futures::future::LocalBoxFuture;
use ww_capnp::dht_capnp::dht;
use ww_capnp::routing_capnp::routing;
use ww_capnp::schema::{builtin, SchemaNode};
use ww_provider_sdk::manifest::{Audience, ExportDecl, Manifest};
use ww_provider_sdk::{Context, Error, Export, Provider};

use crate::routing::RoutingImpl;

/// The name `Routing` is exported under, to guests.
pub const EXPORT_NAME: &str = "routing";

/// What this provider requires: the host provider's DHT.
pub const REQUIRES: &str = "dht";

/// Content routing over the host's DHT.
#[derive(Clone, Copy, Debug, Default)]
pub struct RoutingProvider;

/// The routing provider, as the core's built-in table wants it.
pub fn provider() -> RoutingProvider {
    RoutingProvider
}

impl Provider for RoutingProvider {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "routing".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            exports: vec![ExportDecl {
                name: EXPORT_NAME.to_string(),
                audience: Audience::Guests,
            }],
            requires: vec![REQUIRES.to_string()],
            config: Vec::new(),
        }
    }

    fn schemas(&self) -> Vec<(String, SchemaNode)> {
        ww_provider_sdk::provider::builtin_schemas(&[(EXPORT_NAME, routing::Client::TYPE_ID)])
    }

    fn start(&self, ctx: Context) -> LocalBoxFuture<'static, Result<Vec<Export>, Error>> {
        let exports = (|| {
            let dht = dht::Client::new(ctx.require(REQUIRES)?.cap.hook);
            let cap: routing::Client = capnp_rpc::new_client(RoutingImpl::new(dht));
            let schema = SchemaNode::from_set(&builtin(), routing::Client::TYPE_ID)?;
            Ok(vec![Export::new(EXPORT_NAME, cap.client, schema)])
        })();
        Box::pin(std::future::ready(exports))
    }
}
