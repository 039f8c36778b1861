//! Running one cell: a WASI P2 component (or WASI P1 module) with no ambient
//! authority.
//!
//! A cell gets stdio (the node's, or pipes its parent holds), its argv,
//! exactly the env vars it was given, a directory as a read-only file system
//! at `/` (or none), one RPC connection (components only; see
//! [`transport`](crate::transport)), and its [`Limits`]. It gets no network
//! (WASI sockets are linked but every address is denied), no other files and
//! no inherited environment.

use std::path::PathBuf;

use tokio::io::DuplexStream;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::Store;
use wasmtime_wasi::cli::{AsyncStdinStream, AsyncStdoutStream};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::cpu::Share;
use crate::engine::{Code, Engine};
use crate::limits::{self, status, Limiter, Limits};
use crate::transport::{self, GuestEnd, TransportCtxView, TransportView};
use crate::wit::{self, WitCtxView, WitView};

/// Bytes a cell may write to a piped stdout/stderr before it waits for the
/// reader.
const STDIO_BUFFER: usize = 64 * 1024;

/// Exit status of a cell that trapped or returned an error from `main`.
pub const EXIT_FAILURE: i32 = status::FAILURE;
/// Exit status of a cell that could not be started (cell API: not executable).
pub const EXIT_NOT_EXECUTABLE: i32 = status::NOT_EXECUTABLE;

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
    /// The code is not a runnable command or imports what ww lacks.
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

/// Where a cell's stdio goes.
#[derive(Debug, Default)]
pub enum Stdio {
    /// The node's own stdin, stdout and stderr (pid0).
    #[default]
    Inherit,
    /// The cell's ends of three pipes whose other ends its parent holds.
    Piped {
        /// Read by the cell.
        stdin: DuplexStream,
        /// Written by the cell.
        stdout: DuplexStream,
        /// Written by the cell.
        stderr: DuplexStream,
    },
}

/// Everything a cell is given besides its RPC connection.
#[derive(Debug, Default)]
pub struct Spec {
    /// Names the wasm in errors and logs.
    pub name: String,
    /// `argv`, including `argv[0]`.
    pub argv: Vec<String>,
    /// The only environment the cell sees.
    pub env: Vec<(String, String)>,
    /// Mounted read-only at `/`; `None` gives the cell no file system.
    pub root: Option<PathBuf>,
    /// Its stdio.
    pub stdio: Stdio,
    /// Its memory and CPU limits.
    pub limits: Limits,
    /// Its place in the node's CPU tree; `None` makes it a top-level cell.
    pub share: Option<Share>,
}

/// The state of one component cell's store.
pub struct CellState {
    wasi: wasmtime_wasi::WasiCtx,
    table: ResourceTable,
    transport: GuestEnd,
    limiter: Limiter,
}

impl WasiView for CellState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl TransportView for CellState {
    fn transport(&mut self) -> TransportCtxView<'_> {
        TransportCtxView {
            end: &mut self.transport,
            table: &mut self.table,
        }
    }
}

impl WitView for CellState {
    fn wit(&mut self) -> WitCtxView<'_> {
        WitCtxView {
            ctx: &mut self.transport.wit,
            table: &mut self.table,
        }
    }
}

/// The state of one core-module (WASI P1) cell's store.
pub struct ModuleState {
    wasi: WasiP1Ctx,
    limiter: Limiter,
}

/// Code linked against the host's interfaces, ready to instantiate: linking
/// type-checks every import, so it is done once per code, not per spawn.
#[derive(Clone)]
pub enum Linked {
    /// A component exporting `wasi:cli/run`.
    Component(CommandPre<CellState>),
    /// A core module with `_start`.
    Module(wasmtime::InstancePre<ModuleState>),
}

/// Runs cells on one engine; the linkers are built once.
pub struct Cells {
    components: Linker<CellState>,
    modules: wasmtime::Linker<ModuleState>,
}

impl Cells {
    /// Links WASI P2, `wetware:rpc/transport` and the `wetware:membrane`
    /// worlds for components, WASI P1 for modules.
    ///
    /// # Errors
    ///
    /// Only if Wasmtime rejects the host definitions (a bug).
    pub fn new(engine: &Engine) -> Result<Cells, CellError> {
        let link = |e: wasmtime::Error| CellError::Link(format!("{e:#}"));
        let mut components = Linker::new(engine.wasmtime());
        wasmtime_wasi::p2::add_to_linker_async(&mut components).map_err(link)?;
        transport::add_to_linker(&mut components).map_err(link)?;
        wit::add_to_linker(&mut components).map_err(link)?;
        let mut modules = wasmtime::Linker::new(engine.wasmtime());
        wasmtime_wasi::p1::add_to_linker_async(&mut modules, |s: &mut ModuleState| &mut s.wasi)
            .map_err(link)?;
        Ok(Cells {
            components,
            modules,
        })
    }

    /// Runs `code` to completion and returns its exit status (see
    /// [`limits::status`]): 0 on success, the code it passed to `exit`, the
    /// status of a limit it hit, or 1 when it trapped or its `main` failed
    /// (the trap is logged).
    ///
    /// # Errors
    ///
    /// When the cell cannot be started at all.
    pub async fn run(
        &self,
        engine: &Engine,
        code: &Code,
        spec: Spec,
        transport: GuestEnd,
    ) -> Result<i32, CellError> {
        let linked = self.link(code, &spec.name)?;
        self.run_linked(engine, &linked, spec, transport).await
    }

    /// Links `code` (named `name` in errors) against WASI and
    /// `wetware:rpc`.
    ///
    /// # Errors
    ///
    /// When it imports what the host does not provide, or is a component
    /// without `wasi:cli/run`.
    pub fn link(&self, code: &Code, name: &str) -> Result<Linked, CellError> {
        let not_runnable = |reason: String| CellError::NotRunnable {
            what: name.to_string(),
            reason,
        };
        match code {
            Code::Component(component) => {
                let pre = self.components.instantiate_pre(component).map_err(|e| {
                    not_runnable(format!("{e:#} (ww provides WASI 0.2 and wetware:rpc)"))
                })?;
                let pre = CommandPre::new(pre).map_err(|e| {
                    not_runnable(format!(
                        "{e:#}; a cell must export wasi:cli/run — build a binary crate (fn main) for wasm32-wasip2"
                    ))
                })?;
                Ok(Linked::Component(pre))
            }
            Code::Module(module) => self
                .modules
                .instantiate_pre(module)
                .map(Linked::Module)
                .map_err(|e| {
                    not_runnable(format!(
                        "{e:#} (ww provides WASI preview 1 to core modules)"
                    ))
                }),
        }
    }

    /// [`Cells::run`] for code linked before.
    ///
    /// # Errors
    ///
    /// When the cell cannot be started at all.
    pub async fn run_linked(
        &self,
        engine: &Engine,
        linked: &Linked,
        spec: Spec,
        transport: GuestEnd,
    ) -> Result<i32, CellError> {
        let Spec {
            name,
            argv,
            env,
            root,
            stdio,
            limits,
            share,
        } = spec;
        let share = share.unwrap_or_else(|| engine.cpu().top(&name));
        let wasi = wasi_builder(&argv, &env, root.as_ref(), stdio)?;
        let limiter = Limiter::new(&limits);
        let not_runnable = |reason: String| CellError::NotRunnable {
            what: name.clone(),
            reason,
        };
        // Everything the cell's code does runs by turns, charged to it.
        let execution = async {
            Ok(match linked {
                Linked::Component(pre) => {
                    let mut wasi = wasi;
                    let state = CellState {
                        wasi: wasi.build(),
                        table: ResourceTable::new(),
                        transport,
                        limiter,
                    };
                    let mut store = limited_store(engine, state, &limits, &share);
                    let command = pre
                        .instantiate_async(&mut store)
                        .await
                        .map_err(|e| not_runnable(format!("{e:#}")))?;
                    command.wasi_cli_run().call_run(&mut store).await
                }
                Linked::Module(pre) => {
                    let mut wasi = wasi;
                    let state = ModuleState {
                        wasi: wasi.build_p1(),
                        limiter,
                    };
                    let mut store = limited_store(engine, state, &limits, &share);
                    let instance = pre
                        .instantiate_async(&mut store)
                        .await
                        .map_err(|e| not_runnable(format!("{e:#}")))?;
                    match instance.get_typed_func::<(), ()>(&mut store, "_start") {
                        Ok(start) => start.call_async(&mut store, ()).await.map(Ok),
                        Err(e) => Err(e),
                    }
                }
            })
        };
        let result = share.run(execution).await?;
        let cpu = share.used();
        let status = match result {
            Ok(Ok(())) => status::OK,
            Ok(Err(())) => status::FAILURE,
            Err(e) => match limits::exit_status(&e) {
                Some(code) => {
                    if code == status::CPU_LIMIT || code == status::MEMORY_LIMIT {
                        tracing::warn!(
                            "cell {name} stopped (status {code}) after {cpu:.1?} of CPU: {}",
                            e.root_cause()
                        );
                    }
                    code
                }
                None => {
                    tracing::error!("cell {name} trapped after {cpu:.1?} of CPU: {e:?}");
                    status::FAILURE
                }
            },
        };
        tracing::debug!("cell {name} exited with status {status} after {cpu:.1?} of CPU");
        Ok(status)
    }
}

/// The state of a cell's store: it holds the cell's resource limiter.
trait Limited: Send + 'static {
    fn limiter(&mut self) -> &mut Limiter;
}

impl Limited for CellState {
    fn limiter(&mut self) -> &mut Limiter {
        &mut self.limiter
    }
}

impl Limited for ModuleState {
    fn limiter(&mut self) -> &mut Limiter {
        &mut self.limiter
    }
}

/// A store for `state` with the cell's limits in force: its memory
/// limiter, and time slices charged to its CPU share.
fn limited_store<T: Limited>(
    engine: &Engine,
    state: T,
    limits: &Limits,
    share: &Share,
) -> Store<T> {
    let mut store = Store::new(engine.wasmtime(), state);
    store.limiter(|s| s.limiter());
    limits::time_slices(&mut store, limits, share.meter());
    store
}

fn wasi_builder(
    argv: &[String],
    env: &[(String, String)],
    root: Option<&PathBuf>,
    stdio: Stdio,
) -> Result<WasiCtxBuilder, CellError> {
    let mut wasi = WasiCtxBuilder::new();
    wasi.args(argv).envs(env);
    match stdio {
        Stdio::Inherit => {
            wasi.inherit_stdio();
        }
        Stdio::Piped {
            stdin,
            stdout,
            stderr,
        } => {
            wasi.stdin(AsyncStdinStream::new(stdin))
                .stdout(AsyncStdoutStream::new(STDIO_BUFFER, stdout))
                .stderr(AsyncStdoutStream::new(STDIO_BUFFER, stderr));
        }
    }
    if let Some(root) = root {
        wasi.preopened_dir(root, "/", FsPerms::ReadOnly)
            .map_err(|e| CellError::Root {
                root: root.clone(),
                reason: format!("{e:#}"),
            })?;
    }
    Ok(wasi)
}
