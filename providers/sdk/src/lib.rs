//! Write ww capability providers: built into `ww`, or shipped as a shared
//! library that any `ww` of the same version loads with `--provider`.
//!
//! A provider is a type implementing [`Provider`]: a [`Manifest`] saying
//! what it exports, requires and reads from config, and an async
//! [`start`](Provider::start) returning its [`Export`]s. A complete provider
//! (compiled by the doc tests, not run: its `main` serves a node on fd 3):
//!
//! ```no_run
//! use std::rc::Rc;
//! use ww_provider_sdk::capnp::traits::HasTypeId;
//! use ww_provider_sdk::manifest::{Audience, ExportDecl, Manifest};
//! use ww_provider_sdk::ww_capnp::identity_capnp::signer;
//! use ww_provider_sdk::ww_capnp::schema::{builtin, SchemaNode};
//! use ww_provider_sdk::{capnp, capnp_rpc, Context, Error, Export, LocalBoxFuture, Provider};
//!
//! /// Serves `Signer.domain` and nothing else.
//! struct Greeter;
//!
//! impl signer::Server for Greeter {
//!     async fn domain(
//!         self: Rc<Self>,
//!         _: signer::DomainParams,
//!         mut results: signer::DomainResults,
//!     ) -> Result<(), capnp::Error> {
//!         results.get().set_domain("hello");
//!         Ok(())
//!     }
//! }
//!
//! struct GreeterProvider;
//!
//! impl Provider for GreeterProvider {
//!     fn manifest(&self) -> Manifest {
//!         Manifest {
//!             name: "greeter".into(),
//!             version: env!("CARGO_PKG_VERSION").into(),
//!             exports: vec![ExportDecl { name: "greeter".into(), audience: Audience::Guests }],
//!             requires: vec![],
//!             config: vec![],
//!         }
//!     }
//!
//!     fn start(&self, _ctx: Context) -> LocalBoxFuture<'static, Result<Vec<Export>, Error>> {
//!         Box::pin(async {
//!             let cap: signer::Client = capnp_rpc::new_client(Greeter);
//!             let schema = SchemaNode::from_set(&builtin(), signer::Client::TYPE_ID)?;
//!             Ok(vec![Export::new("greeter", cap.client, schema)])
//!         })
//!     }
//! }
//!
//! // Built as a `cdylib`, this makes the library loadable by `ww --provider`.
//! ww_provider_sdk::export!(GreeterProvider);
//!
//! // Built as an executable (a `[[bin]]` whose `main` is this), the same
//! // provider runs in a process of its own: `ww run --provider ./greeter`.
//! fn main() -> std::process::ExitCode {
//!     ww_provider_sdk::serve(GreeterProvider)
//! }
//! ```
//!
//! A provider with its own interface compiles its `.capnp` file in its
//! `build.rs` with [`capnpc`](https://docs.rs/capnpc), pointing the generated
//! code at this crate's re-export (`capnp_root("::ww_provider_sdk::capnp")`)
//! and keeping the compiler's request for [`SchemaSet`](ww_capnp::schema::SchemaSet),
//! so that its `Cargo.toml` names this SDK and nothing else at run time.
//! `ww init --provider NAME` writes such a crate; the authors' [`guide`]
//! (`docs/providers.md` in the ww repository) covers the rest: config
//! keys, errors, callbacks into cells, panics, logging, libraries and
//! processes, and what must match between a provider and a node.
//!
//! ## Process providers
//!
//! [`serve()`] runs a provider as a process: the node spawns it (jailed, like
//! a native cell), and over a Unix socket at fd 3 the two exchange a
//! versioned [`handshake`] (the provider protocol number, the manifest,
//! the provider's [`Needs`](manifest::Needs)) and then run the same Cap'n
//! Proto vat a library runs over its byte stream. A process that exits,
//! aborts or crashes takes only itself down: its capabilities fail with
//! an error naming it and how it ended, and the node restarts it with
//! back-off. Its stderr becomes the node's log events under its name.
//! Any language with Cap'n Proto can be a provider this way: speak the
//! handshake of `provider.capnp` on fd 3, then serve `Plugin` on it.
//!
//! Where to look next:
//! - [`guide`]: writing a provider outside ww's repository, start to end;
//! - [`provider`]: the trait and the [`Context`] `start` receives;
//! - [`manifest`], [`Export`]: what a provider declares and returns;
//! - [`direct`]: letting the node's typed WIT door call a built-in
//!   provider's quick methods without a message;
//! - [`callback`]: calling a cell back without waiting on it forever;
//! - [`proxy`]: wrap a capability transitively with a call policy;
//! - [`host`]: the loader the core uses, and [`fingerprint`]: how it refuses
//!   a library built for another ww;
//! - [`serve()`]: what makes an executable a provider process;
//! - [`export!`]: what makes a `cdylib` a provider library. Across the
//!   library boundary only FFI-safe data crosses (the manifest and a duplex
//!   byte stream carrying a Cap'n Proto vat); the plugin runs on its own
//!   thread and runtime, catches panics at every entry point and forwards
//!   its `tracing` events to the host.

#![deny(missing_docs)]
#![allow(non_local_definitions)]
// abi_stable's derives

// What generated code and providers use, so that a provider's Cargo.toml
// names this SDK alone (and the same versions as the node it runs in).
pub use capnp;
pub use capnp_rpc;
pub use futures;
pub use futures::future::LocalBoxFuture;
pub use tokio;
pub use tokio::task::spawn_local;
pub use tracing;
pub use ww_capnp;

pub mod callback;
pub mod direct;
pub mod guide {
    //! The authors' guide (`docs/providers.md` of the ww repository).
    #![doc = include_str!("../../../docs/providers.md")]
}
pub mod error;
pub mod fingerprint;
pub mod handshake;
pub mod host;
pub mod manifest;
pub mod provider;
pub mod proxy;
pub mod serve;

mod bridge;
// Private: its one public type is [`Export`], at the root, so that
// `ww_provider_sdk::export` names only the macro.
mod export;
mod ffi;
mod logs;
mod plugin;
mod registry;

pub use error::Error;
pub use export::Export;
pub use manifest::Manifest;
pub use provider::{Context, Provider};
pub use serve::serve;

#[doc(hidden)]
pub use linkme as __linkme;

#[doc(hidden)]
pub mod __private {
    pub use crate::registry::{Factory, PROVIDERS};
}

/// Makes this crate's `cdylib` a provider library serving `$ctor`'s provider.
///
/// Call it once, in the provider crate's `lib.rs`, with an expression that
/// builds the provider (it runs each time the plugin needs an instance, so
/// keep construction cheap). It only registers a factory at link time: the
/// C entry points are this SDK's, defined once, so that several provider
/// crates can link into one `ww` binary without their symbols colliding.
#[macro_export]
macro_rules! export {
    ($ctor:expr) => {
        const _: () = {
            fn __ww_provider_factory() -> ::std::boxed::Box<dyn $crate::provider::Provider> {
                ::std::boxed::Box::new($ctor)
            }
            #[$crate::__linkme::distributed_slice($crate::__private::PROVIDERS)]
            #[linkme(crate = $crate::__linkme)]
            static __WW_PROVIDER: $crate::__private::Factory = __ww_provider_factory;
        };
    };
}

#[cfg(test)]
mod tests;
