//! Running one cell: a WASI P2 component with no ambient authority.
//!
//! A cell gets stdio, its argv, exactly the env vars it was given, its image
//! as a read-only file system at `/`, and one RPC connection (see
//! [`transport`](crate::transport)). It gets no network (WASI sockets are
//! linked but every address is denied), no other files, no inherited env.

use std::path::PathBuf;

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::Store;
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::engine::Engine;
use crate::transport::{self, GuestEnd, TransportCtxView, TransportView};

/// Exit status of a cell that trapped or returned an error from `main`.
pub const EXIT_FAILURE: i32 = 1;
/// Exit status of a cell that could not be started (cell API: not executable).
pub const EXIT_NOT_EXECUTABLE: i32 = 126;

/// Why a cell could not be started.
#[derive(Debug, thiserror::Error)]
pub enum CellError {
    /// The host-side linker could not be built (a bug, reported as such).
    #[error("cannot link the host interfaces: {0}")]
    Link(String),
    /// The image root could not be opened for the guest.
    #[error("cannot give the cell its image {root}: {reason}")]
    Root {
        /// The image root.
        root: PathBuf,
        /// The cause.
        reason: String,
    },
    /// The component is not a runnable command or imports what ww lacks.
    #[error("{what} cannot run here: {reason}")]
    NotRunnable {
        /// Which wasm.
        what: String,
        /// Wasmtime's explanation, with a hint.
        reason: String,
    },
}

impl CellError {
    /// Exit status for this failure, following the cell API.
    pub fn exit_code(&self) -> i32 {
        match self {
            CellError::NotRunnable { .. } => EXIT_NOT_EXECUTABLE,
            _ => EXIT_FAILURE,
        }
    }
}

/// Everything a cell is given besides its RPC connection.
#[derive(Clone, Debug, Default)]
pub struct Spec {
    /// Names the wasm in errors and logs.
    pub name: String,
    /// `argv`, including `argv[0]`.
    pub argv: Vec<String>,
    /// The only environment the cell sees.
    pub env: Vec<(String, String)>,
    /// Mounted read-only at `/`; `None` gives the cell no file system.
    pub root: Option<PathBuf>,
}

/// The state of one cell's store.
pub struct CellState {
    wasi: WasiCtx,
    table: ResourceTable,
    transport: GuestEnd,
}

impl TransportView for CellState {
    fn transport(&mut self) -> TransportCtxView<'_> {
        TransportCtxView {
            end: &mut self.transport,
            table: &mut self.table,
        }
    }
}

impl WasiView for CellState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Runs cells on one engine; the linker is built once.
pub struct Cells {
    linker: Linker<CellState>,
}

impl Cells {
    /// Links WASI P2 and `wetware:rpc/transport` for `engine`.
    ///
    /// # Errors
    ///
    /// Only if Wasmtime rejects the host definitions (a bug).
    pub fn new(engine: &Engine) -> Result<Cells, CellError> {
        let mut linker = Linker::new(engine.wasmtime());
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| CellError::Link(format!("{e:#}")))?;
        transport::add_to_linker(&mut linker).map_err(|e| CellError::Link(format!("{e:#}")))?;
        Ok(Cells { linker })
    }

    /// Runs `component` to completion and returns its exit status: 0 on
    /// success, the code it passed to `exit`, or 1 when it trapped or its
    /// `main` failed (the trap is logged).
    ///
    /// # Errors
    ///
    /// When the cell cannot be started at all.
    pub async fn run(
        &self,
        engine: &Engine,
        component: &Component,
        spec: Spec,
        transport: GuestEnd,
    ) -> Result<i32, CellError> {
        let not_runnable = |reason: String| CellError::NotRunnable {
            what: spec.name.clone(),
            reason,
        };
        let pre = self
            .linker
            .instantiate_pre(component)
            .map_err(|e| not_runnable(format!("{e:#} (ww provides WASI 0.2 and wetware:rpc)")))?;
        let pre = CommandPre::new(pre).map_err(|e| {
            not_runnable(format!(
                "{e:#}; a cell must export wasi:cli/run — build a binary crate (fn main) for wasm32-wasip2"
            ))
        })?;

        let mut wasi = WasiCtxBuilder::new();
        wasi.inherit_stdio().args(&spec.argv).envs(&spec.env);
        if let Some(root) = &spec.root {
            wasi.preopened_dir(root, "/", FsPerms::ReadOnly)
                .map_err(|e| CellError::Root {
                    root: root.clone(),
                    reason: format!("{e:#}"),
                })?;
        }
        let state = CellState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            transport,
        };
        let mut store = Store::new(engine.wasmtime(), state);
        let command = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| not_runnable(format!("{e:#}")))?;
        let status = match command.wasi_cli_run().call_run(&mut store).await {
            Ok(Ok(())) => 0,
            Ok(Err(())) => EXIT_FAILURE,
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(exit) => exit.0,
                None => {
                    tracing::error!("cell {} trapped: {e:?}", spec.name);
                    EXIT_FAILURE
                }
            },
        };
        Ok(status)
    }
}
