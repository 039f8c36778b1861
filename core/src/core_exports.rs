//! The capabilities the core itself serves to providers.
//!
//! The core takes part in provider resolution like any provider: this one
//! starts first and exports `cells` (the cell runtime, for the executor
//! provider) to providers only — cells never graft it.

use futures::future::LocalBoxFuture;
use ww_provider_sdk::manifest::{Audience, ExportDecl};
use ww_provider_sdk::ww_capnp::schema::{self, SchemaNode};
use ww_provider_sdk::ww_capnp::system_capnp::cells;
use ww_provider_sdk::{capnp, Context, Error, Export, Manifest, Provider};

/// The name providers require to get the cell runtime.
pub const CELLS: &str = "cells";

/// The core, as a provider of `cells`.
pub struct CoreExports {
    cells: cells::Client,
}

impl CoreExports {
    /// Serves `cells` to providers.
    pub fn new(cells: cells::Client) -> CoreExports {
        CoreExports { cells }
    }
}

impl Provider for CoreExports {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "core".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            exports: vec![ExportDecl {
                name: CELLS.into(),
                audience: Audience::Providers,
            }],
            requires: Vec::new(),
            config: Vec::new(),
        }
    }

    fn start(&self, _: Context) -> LocalBoxFuture<'static, Result<Vec<Export>, Error>> {
        let cells = self.cells.clone();
        Box::pin(async move {
            let id = <cells::Client as capnp::traits::HasTypeId>::TYPE_ID;
            let schema = SchemaNode::from_set(&schema::builtin(), id)?;
            Ok(vec![Export::new(CELLS, cells.client, schema)])
        })
    }
}
