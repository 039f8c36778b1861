//! The provider: manifest and start.

use std::rc::Rc;

use capnp::capability::FromClientHook;
use futures::future::LocalBoxFuture;
use ww_capnp::system_capnp::{cells, executor};
use ww_provider_sdk::direct::Direct;
use ww_provider_sdk::manifest::{Audience, ConfigKey, ExportDecl};
use ww_provider_sdk::{Context, Error, Export, Manifest, Provider};

use crate::executor::{Children, ExecutorImpl};

/// The capability this provider exports to cells.
pub const EXPORT_NAME: &str = "executor";
/// The core capability it builds on.
const CELLS: &str = "cells";
/// Configuration: live children one executor capability may have.
pub const MAX_CHILDREN_CONFIG: &str = "max-children";
const DEFAULT_MAX_CHILDREN: u32 = 64;

/// Exports `executor`; requires the core's `cells`.
#[derive(Default)]
pub struct ExecutorProvider;

/// The provider, for linking into `ww`.
pub fn provider() -> ExecutorProvider {
    ExecutorProvider
}

impl Provider for ExecutorProvider {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "executor".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            exports: vec![ExportDecl {
                name: EXPORT_NAME.into(),
                audience: Audience::Guests,
            }],
            requires: vec![CELLS.into()],
            config: vec![ConfigKey {
                key: MAX_CHILDREN_CONFIG.into(),
                help: format!(
                    "live children one executor capability may have (default {DEFAULT_MAX_CHILDREN})"
                ),
                required: false,
            }],
        }
    }

    fn schemas(&self) -> Vec<(String, ww_capnp::schema::SchemaNode)> {
        ww_provider_sdk::provider::builtin_schemas(&[(
            EXPORT_NAME,
            <executor::Client as capnp::traits::HasTypeId>::TYPE_ID,
        )])
    }

    fn start(&self, ctx: Context) -> LocalBoxFuture<'static, Result<Vec<Export>, Error>> {
        Box::pin(async move {
            let cells: cells::Client = ctx.require(CELLS)?.cap.cast_to();
            let max = match ctx.config(MAX_CHILDREN_CONFIG) {
                None => DEFAULT_MAX_CHILDREN,
                Some(v) => v.parse().map_err(|_| Error::Config {
                    key: MAX_CHILDREN_CONFIG.into(),
                    reason: format!("`{v}` is not a whole number"),
                })?,
            };
            let server = Rc::new(ExecutorImpl {
                cells,
                code: None,
                children: Rc::new(Children::new(max)),
            });
            let executor: executor::Client = capnp_rpc::new_client_from_rc(server.clone());
            let schemas = ww_capnp::schema::builtin();
            let schema = ww_capnp::schema::SchemaNode::from_set(
                &schemas,
                <executor::Client as capnp::traits::HasTypeId>::TYPE_ID,
            )?;
            Ok(vec![Export::new(EXPORT_NAME, executor.client, schema)
                .with_direct(Direct::Executor(server))])
        })
    }
}
