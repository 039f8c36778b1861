//! The provider: requires the host's `wire` and `host` and `routing`,
//! exports `ipfs`.

use std::rc::Rc;

use capnp::capability::FromClientHook;
use capnp::traits::HasTypeId;
use cid::Cid;
use futures::future::LocalBoxFuture;
use ww_capnp::ipfs_capnp::ipfs;
use ww_capnp::routing_capnp::routing;
use ww_capnp::schema::{builtin, SchemaNode};
use ww_capnp::system_capnp::host;
use ww_capnp::wire_capnp::wire;
use ww_provider_sdk::manifest::{Audience, ExportDecl, Manifest};
use ww_provider_sdk::{Context, Error, Export, Provider};

use crate::bitswap::Bitswap;
use crate::blocks::Blocks;
use crate::blockstore::Blockstore;
use crate::config::{self, Settings};
use crate::embedded::EmbeddedBackend;
use crate::ipfs::IpfsImpl;
#[cfg(feature = "kubo")]
use crate::kubo::api::KuboApi;
#[cfg(feature = "kubo")]
use crate::kubo::KuboBackend;
use crate::lease::Lease;
use crate::pins::Pins;

/// The name `Ipfs` is exported under, to guests.
pub const EXPORT_NAME: &str = "ipfs";

/// What this provider requires: raw streams for Bitswap, the host to find
/// connected peers, and routing to announce and find content.
pub const REQUIRES: [&str; 3] = ["wire", "host", "routing"];

/// IPFS with an embedded block store and Bitswap, or through a Kubo RPC
/// API when `ipfs-url` is set.
#[derive(Clone, Copy, Debug, Default)]
pub struct IpfsProvider;

/// The IPFS provider, as the core's built-in table wants it.
pub fn provider() -> IpfsProvider {
    IpfsProvider
}

fn start_error(e: impl std::fmt::Display) -> Error {
    Error::Start {
        provider: "ipfs".into(),
        reason: e.to_string(),
    }
}

impl Provider for IpfsProvider {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "ipfs".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            exports: vec![ExportDecl {
                name: EXPORT_NAME.to_string(),
                audience: Audience::Guests,
            }],
            requires: REQUIRES.iter().map(|s| s.to_string()).collect(),
            config: config::keys(),
        }
    }

    fn schemas(&self) -> Vec<(String, SchemaNode)> {
        ww_provider_sdk::provider::builtin_schemas(&[(EXPORT_NAME, ipfs::Client::TYPE_ID)])
    }

    fn start(&self, ctx: Context) -> LocalBoxFuture<'static, Result<Vec<Export>, Error>> {
        Box::pin(async move {
            let settings = Settings::from_context(&ctx)?;
            let schema = SchemaNode::from_set(&builtin(), ipfs::Client::TYPE_ID)?;
            if let Some(url) = &settings.ipfs_url {
                #[cfg(not(feature = "kubo"))]
                return Err(start_error(crate::error::IpfsError::NoKubo {
                    url: url.clone(),
                }));
                #[cfg(feature = "kubo")]
                {
                    let api = KuboApi::new(url, settings.fetch_timeout).map_err(start_error)?;
                    // Fail at start, naming the URL, rather than at a cell's
                    // first call.
                    let version = api.version().await.map_err(start_error)?;
                    tracing::info!(%url, %version, "ipfs: using the Kubo RPC API");
                    let cap: ipfs::Client =
                        capnp_rpc::new_client(IpfsImpl::new(KuboBackend::new(api)));
                    return Ok(vec![Export::new(EXPORT_NAME, cap.client, schema)]);
                }
            }
            let wire = wire::Client::new(ctx.require("wire")?.cap.hook);
            let host = host::Client::new(ctx.require("host")?.cap.hook);
            let routing = routing::Client::new(ctx.require("routing")?.cap.hook);
            // Held while the node runs: a repair from outside waits for it.
            let lease = Lease::shared(&settings.data_dir).map_err(start_error)?;
            crate::check::at_start(&settings.data_dir);
            let store = Blockstore::open(&settings.data_dir).map_err(start_error)?;
            let pins = Pins::open(&settings.data_dir).map_err(start_error)?;
            let bitswap = Bitswap::start(store.clone(), wire, host, Some(routing.clone()))
                .await
                .map_err(start_error)?;
            if let Some(max) = settings.store_max {
                let bytes = store.measure(max).map_err(start_error)?;
                tracing::debug!(bytes, max, "ipfs: the store's size, and its limit");
                if bytes > max {
                    crate::gc::collect(&store, &pins).map_err(start_error)?;
                }
                tokio::task::spawn_local(crate::gc::run_when_over(store.clone(), pins.clone()));
            }
            let blocks = Blocks::new(store, Some(bitswap.clone()), settings.fetch_timeout);
            let announce: Rc<dyn Fn(Cid)> = Rc::new(move |cid: Cid| {
                // Peers that asked for these blocks before they were here.
                bitswap.stored();
                let mut request = routing.provide_request();
                request.get().set_key(cid.to_string().as_str());
                tokio::task::spawn_local(async move {
                    if let Err(e) = request.send().promise.await {
                        tracing::debug!(%cid, "announcing failed (peers can still ask directly): {e}");
                    }
                });
            });
            // What this node keeps (e.g. an image `ww push`ed into this data
            // directory) is announced again at every start.
            for cid in pins.list() {
                announce(cid);
            }
            let cap: ipfs::Client = capnp_rpc::new_client(IpfsImpl::new(EmbeddedBackend::new(
                blocks, pins, announce, lease,
            )));
            tracing::debug!(dir = %settings.data_dir.display(), "ipfs provider started");
            Ok(vec![Export::new(EXPORT_NAME, cap.client, schema)])
        })
    }
}
