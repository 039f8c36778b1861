//! A third-party-style provider for the core's tests: its own schema, a
//! method that panics, and one that reflects a capability. Depends only on
//! the SDK and what it re-exports.

use std::rc::Rc;

use ww_provider_sdk::capnp::traits::HasTypeId;
use ww_provider_sdk::manifest::{Audience, ExportDecl, Manifest};
use ww_provider_sdk::ww_capnp::schema::{SchemaNode, SchemaSet};
use ww_provider_sdk::{capnp, capnp_rpc, Context, Error, Export, LocalBoxFuture, Provider};

#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod fixture_capnp {
    include!(concat!(env!("OUT_DIR"), "/fixture_capnp.rs"));
}

use fixture_capnp::fixture;

/// The serialized schema request build.rs saved.
const SCHEMAS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/fixture.bin"));

/// Serves `Fixture`.
struct FixtureImpl;

impl fixture::Server for FixtureImpl {
    async fn ping(
        self: Rc<Self>,
        params: fixture::PingParams,
        mut results: fixture::PingResults,
    ) -> Result<(), capnp::Error> {
        let n = params.get()?.get_n();
        results.get().set_n(n.wrapping_add(1));
        Ok(())
    }

    async fn panic(
        self: Rc<Self>,
        _: fixture::PanicParams,
        _: fixture::PanicResults,
    ) -> Result<(), capnp::Error> {
        panic!("fixture panicked on purpose");
    }

    async fn reflect(
        self: Rc<Self>,
        params: fixture::ReflectParams,
        mut results: fixture::ReflectResults,
    ) -> Result<(), capnp::Error> {
        let cap: capnp::capability::Client = params.get()?.get_cap().get_as_capability()?;
        results.get().init_cap().set_as_capability(cap.hook);
        Ok(())
    }
}

/// Exports `fixture` to guests.
pub struct FixtureProvider;

impl Provider for FixtureProvider {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "fixture".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            exports: vec![ExportDecl {
                name: "fixture".to_string(),
                audience: Audience::Guests,
            }],
            requires: Vec::new(),
            config: Vec::new(),
        }
    }

    fn start(&self, _ctx: Context) -> LocalBoxFuture<'static, Result<Vec<Export>, Error>> {
        Box::pin(async {
            let set = SchemaSet::from_bytes(SCHEMAS)?;
            let schema = SchemaNode::from_set(&set, fixture::Client::TYPE_ID)?;
            let cap: fixture::Client = capnp_rpc::new_client(FixtureImpl);
            Ok(vec![Export::new("fixture", cap.client, schema)])
        })
    }
}

ww_provider_sdk::export!(FixtureProvider);
