//! `ww run`: a node boots an image as pid0.
//!
//! Assemble the image, compile (or load from cache) `boot/main.wasm`, start
//! the providers, put the membrane on pid0's RPC pipe, run pid0 and exit with
//! its status. Everything runs on one thread: capnp-rpc servers are
//! single-threaded, and a cell blocked on I/O yields to them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;

use crate::ipfs_layers;
use ww_core::caller::{self, Caller};
use ww_core::cell::{CellError, Cells, Spec};
use ww_core::cells::{ChildBounds, Runtime};
use ww_core::core_exports::CoreExports;
use ww_core::engine::{Code, Engine, EngineError, WasmError};
use ww_core::epoch::Epochs;
use ww_core::image::{Image, ImageError};
use ww_core::key::{self, KeyError};
use ww_core::limits::Limits;
use ww_core::membrane::MembraneServer;
use ww_core::memory_budget::{MemoryBudget, MemoryConfigError, MemoryLimits};
use ww_core::native::{self, fds::PassedFd, NativeError};
use ww_core::registry::{self, Plan, RegistryError};
use ww_core::rpc_budget::{CellBudget, RpcLimits};
use ww_core::{transport, vat};

mod kernel;

pub use kernel::pass_env_names;
use kernel::Kernel;

/// The configuration key under which providers receive the node key (PEM).
pub const IDENTITY_KEY: &str = "identity";

/// Exit status when the image has no kernel (cell API: not found).
pub const EXIT_NOT_FOUND: i32 = 127;

/// What `ww run` was asked to do.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Image layers, in order.
    pub layers: Vec<String>,
    /// Arguments after `--`, passed to pid0 after `argv[0]`.
    pub args: Vec<String>,
    /// `--provider` libraries and programs.
    pub providers: Vec<PathBuf>,
    /// `--provider-grant NAME:WHAT`: what provider processes' jails may
    /// grant beyond the default.
    pub provider_grants: Vec<registry::grants::Grant>,
    /// `--provider-restart`: what happens when a provider process ends.
    pub provider_restart: registry::restart::Restart,
    /// `--identity`: the node key; `None` makes an ephemeral one.
    pub identity: Option<PathBuf>,
    /// `--env KEY[=VALUE]`: with `pass_env`, the only env pid0 gets; a
    /// bare KEY copies ww's.
    pub env: Vec<String>,
    /// `WW_ENV=A,B`: names of ww's own variables pid0 gets too (those ww
    /// has; `--env` wins for the same name).
    pub pass_env: Vec<String>,
    /// `--fd NAME=N`: host descriptors for a native pid0, checked open
    /// before ww opened anything (see [`native::fds::check`]).
    pub fds: Vec<PassedFd>,
    /// `--ro PATH`: trees a native pid0 may read, besides its image.
    pub read_only: Vec<PathBuf>,
    /// `--no-jail`: run native cells unconfined (said once, as a WARN).
    pub no_jail: bool,
    /// `--allow-native-children`: `Executor.spawn` may start native
    /// executables of the image.
    pub allow_native_children: bool,
    /// `--config KEY=VALUE` for providers: each key must be one a
    /// provider reads.
    pub config: Vec<(String, String)>,
    /// Provider configuration the node's own flags set (`--listen`,
    /// `--data-dir`, …): winning over `--config` for the same key, and
    /// dropped without a word when no provider reads it (the provider that
    /// would may be compiled out or replaced).
    pub flag_config: Vec<(String, String)>,
    /// Compile cache directory; `None` disables it.
    pub cache_dir: Option<PathBuf>,
    /// SIGHUP advances the epoch (revokes every capability).
    pub revoke_on_hup: bool,
    /// Children alive at once on this node.
    pub max_cells: u32,
    /// Memory limit of a child that sets none, in bytes (`None`:
    /// [`DEFAULT_CHILD_MEMORY`](ww_core::memory_budget::DEFAULT_CHILD_MEMORY)).
    pub max_memory: Option<usize>,
    /// What each cell may make the node hold for its RPC.
    pub rpc: RpcLimits,
    /// pid0's memory limit, in bytes (`None`:
    /// [`DEFAULT_PID0_MEMORY`](ww_core::memory_budget::DEFAULT_PID0_MEMORY)).
    pub max_memory_pid0: Option<usize>,
    /// The node's memory budget, in bytes (`None`: half the machine's; see
    /// [`memory_budget`](ww_core::memory_budget)).
    pub max_memory_total: Option<usize>,
    /// A host front end for pid0's Shell: a terminal or MCP (`None`: pid0
    /// reads ww's stdin itself).
    pub frontend: Option<crate::shell::Frontend>,
    /// `--stem`: epochs follow an on-chain Atom.
    pub stem: Option<crate::stem::StemOptions>,
    /// `--allow-key`: who may log in to the node's terminal besides the
    /// holder of its own key (see [`ww_core::terminal::keys`]).
    pub allow_keys: Vec<String>,
    /// Bounds on compiling cells' code and on the code caches
    /// (`--max-module-size`, `--compile-timeout`, `--compile-budget`,
    /// `--code-cache-max-size`, `--cache-max-size`).
    pub compile: ww_core::compile::CompileOptions,
    /// `--target`: the machine cells' code is for (this host's, or Pulley).
    pub target: ww_core::target::Target,
}

/// Why a node could not run its image.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Layers could not be merged.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The kernel is not a runnable component.
    #[error(transparent)]
    Wasm(#[from] WasmError),
    /// The engine could not be configured.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The identity key could not be read.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Providers could not be loaded or started.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// pid0 could not be started.
    #[error(transparent)]
    Cell(#[from] CellError),
    /// An IPFS layer could not be fetched.
    #[error(transparent)]
    Fetch(#[from] ipfs_layers::FetchError),
    /// The `--stem` Atom cannot be followed.
    #[error(transparent)]
    Stem(#[from] crate::stem::StemError),
    /// The stem cannot swap this node's image.
    #[error(transparent)]
    StemNode(#[from] crate::stem::StemNodeError),
    /// A malformed `--env` or `--config`.
    #[error("{0}")]
    Usage(String),
    /// Memory flags that cannot work together.
    #[error(transparent)]
    Memory(#[from] MemoryConfigError),
    /// A native pid0 could not start.
    #[error(transparent)]
    Native(#[from] NativeError),
}

impl NodeError {
    /// The process exit status for this failure (cell API numbering).
    pub fn exit_code(&self) -> i32 {
        match self {
            NodeError::Image(ImageError::NoBoot { .. }) => EXIT_NOT_FOUND,
            NodeError::Wasm(e) => e.exit_code(),
            NodeError::Cell(e) => e.exit_code(),
            NodeError::Native(e) => e.exit_code(),
            NodeError::Registry(e) => e.exit_code(),
            NodeError::Usage(_) | NodeError::Memory(_) => 2,
            NodeError::Stem(crate::stem::StemError::Usage { .. }) => 2,
            _ => 1,
        }
    }
}

/// Boots the image and returns pid0's exit status. Must run inside a tokio
/// `LocalSet` on a current-thread runtime.
///
/// # Errors
///
/// Anything that stops pid0 from starting; pid0's own failures are its
/// exit status.
pub async fn run(options: RunOptions) -> Result<i32, NodeError> {
    let env = kernel::env(&options.pass_env, &options.env)?;
    let bare = kernel::bare_program(&options.layers)?;
    // Every cell's memory limit, pid0's first, is reserved from one budget
    // (see `memory_budget`); pid0's reservation is held until it ends.
    let memory = MemoryLimits::new(
        options.max_memory_total,
        options.max_memory_pid0,
        options.max_memory,
        options.rpc.held_bytes(),
    )?;
    let budget = MemoryBudget::new(memory.total);
    let _pid0_memory = budget
        .reserve(memory.cell(memory.pid0))
        .map_err(|e| NodeError::Usage(format!("pid0's memory limit: {e}")))?;
    let node_key = identity_key(options.identity.as_ref())?;
    let mut allowed = vec![node_key.verifying_key()];
    for spec in &options.allow_keys {
        allowed.extend(
            ww_core::terminal::keys::parse(spec).map_err(|e| NodeError::Usage(e.to_string()))?,
        );
    }
    let stem = match &options.stem {
        Some(stem) => Some(crate::stem::Stem::start(stem).await?),
        None => None,
    };
    // With a stem, the head the node starts on is the base layer.
    let layers = match &stem {
        Some(stem) => stem.layers(&options.layers),
        None => options.layers.clone(),
    };
    // pid0 and every child need a pooled slot.
    let engine = Rc::new(
        Engine::for_target(
            options.cache_dir.as_deref(),
            options.max_cells.saturating_add(1),
            &options.target,
        )?
        .with_cache_max_size(options.compile.cache_max_size)
        .with_compile_options(options.compile.clone()),
    );
    // IPFS layers are fetched once the providers run; the image's root is
    // chosen now, since the cell runtime (a provider itself) needs it.
    // A stem swaps the base under a merged root, never in a layer itself.
    let pending = if stem.is_some() || ipfs_layers::any(&layers) {
        Pending::Fetch(ipfs_layers::scratch().map_err(|e| {
            NodeError::Usage(format!(
                "cannot create a scratch directory for the image: {e}"
            ))
        })?)
    } else if let Some(program) = &bare {
        let image = Image::empty(&program.display().to_string())?;
        Pending::Ready(image, Kernel::bare(program))
    } else {
        let image = Image::assemble(&layers)?;
        let kernel = Kernel::load(&engine, &image)?;
        Pending::Ready(image, kernel)
    };
    let root = match &pending {
        Pending::Ready(image, _) => image.root().to_path_buf(),
        Pending::Fetch(root) => root.path().to_path_buf(),
    };
    let cells = Rc::new(Cells::new(&engine)?);
    let epochs = Rc::new(
        stem.as_ref()
            .map_or_else(Epochs::new, crate::stem::Stem::epochs),
    );
    // Native cells: children's runner when the node allows them (pid0's
    // too, or its own once its kernel is known to be native).
    let mut natives = match options.allow_native_children {
        true => Some(kernel::children_runner(options.no_jail)?),
        false => None,
    };
    let runtime = Runtime::new(
        engine.clone(),
        cells.clone(),
        root,
        epochs.clone(),
        ChildBounds {
            defaults: Limits {
                memory: Some(memory.child),
                cpu: None,
            },
            max_live: options.max_cells,
            rpc: options.rpc,
        },
        budget.clone(),
        natives.clone(),
    );

    // Provider processes are started by the same runner as native cells
    // (one jail, one process tree).
    let mut provider_runner = None;
    let processes = if registry::any_process(&options.providers)? {
        let runner = natives
            .clone()
            .unwrap_or_else(|| native::Runner::new(native::Confinement::for_node(options.no_jail)));
        provider_runner = Some(runner.clone());
        Some(registry::process::ProcessHost::new(
            runner,
            options.read_only.clone(),
            options.provider_grants.clone(),
            options.provider_restart,
        ))
    } else {
        None
    };
    let libraries = registry::load(&options.providers, processes.as_ref()).await?;
    for grant in &options.provider_grants {
        let known = libraries.iter().any(|l| match l {
            registry::Loaded::Process(p) => p.name() == grant.provider,
            registry::Loaded::Library(_) => false,
        });
        if !known {
            tracing::warn!(
                "--provider-grant {}: no provider process is called `{}`; the grant is unused \
                 (`ww providers PROGRAM` shows a program's name)",
                grant.provider,
                grant.provider
            );
        }
    }
    let mut builtins = crate::builtins::providers();
    builtins.insert(0, Box::new(CoreExports::new(runtime.client())));
    let plan = Plan::new(builtins, libraries)?;
    let given: BTreeMap<String, String> = options.config.iter().cloned().collect();
    // The node key is one setting for every provider that reads it (the
    // identity provider signs with it, the host's peer id is made of it):
    // a value given here would be replaced without a word.
    if given.contains_key(IDENTITY_KEY) {
        return Err(NodeError::Usage(format!(
            "--config {IDENTITY_KEY}: providers receive the node key as `{IDENTITY_KEY}`, so a \
             value given with --config is not used; choose the node key with --identity PATH \
             (create one with `ww keygen --output id.key`)"
        )));
    }
    let mut supplied: BTreeMap<String, String> = options.flag_config.iter().cloned().collect();
    if plan.reads(IDENTITY_KEY) || options.identity.is_some() {
        if options.identity.is_none() {
            tracing::info!(
                "no --identity given: using an ephemeral node key (it changes every run); create a lasting one with `ww keygen --output id.key`"
            );
        }
        supplied.insert(IDENTITY_KEY.into(), key::to_pem(&node_key));
    }
    // Refused before any provider starts: an unknown key is a typo or a
    // provider missing, and a missing required key would fail its start.
    plan.check_config(&given, &supplied)?;
    let mut settings = given;
    settings.extend(supplied);
    let started = plan.start(&settings).await?;
    let (image, kernel, fetched) = match pending {
        Pending::Ready(image, kernel) => (image, kernel, None),
        Pending::Fetch(root) => {
            let fetched = ipfs_layers::scratch().map_err(|e| {
                NodeError::Usage(format!(
                    "cannot create a scratch directory for IPFS layers: {e}"
                ))
            })?;
            let local =
                ipfs_layers::fetch(&layers, &started.guest_exports(), fetched.path()).await?;
            let image = Image::assemble_into(&local, root)?;
            let kernel = Kernel::load(&engine, &image)?;
            (image, kernel, Some((local, fetched)))
        }
    };

    if options.revoke_on_hup {
        // The handler is installed here, before pid0 starts: a SIGHUP sent
        // as soon as pid0 runs must advance the epoch, not kill the node.
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(hup) => {
                tokio::task::spawn_local(revoke_on_hup(hup, epochs.clone()));
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGHUP ({e}); --revoke-on-hup is inactive");
            }
        }
    }
    kernel.check(&options)?;
    if matches!(kernel, Kernel::Native { .. }) && natives.is_none() {
        natives = Some(provider_runner.clone().unwrap_or_else(|| {
            native::Runner::new(native::Confinement::for_node(options.no_jail))
        }));
    }
    let (root, boot) = (image.root().to_path_buf(), image.boot());
    // With a stem, its task owns the image from now on: it swaps the base.
    let _image = match stem {
        Some(stem) => {
            let (local, fetched) = fetched.map_or((Vec::new(), None), |(l, f)| (l, Some(f)));
            stem.spawn(
                image,
                local,
                fetched,
                epochs.clone(),
                &started.guest_exports(),
            )?;
            None
        }
        None => Some(image),
    };
    let rpc_budget = CellBudget::new("pid0", options.rpc);
    // pid0 grafts from the live table: a restarted provider process's
    // exports are what its next graft hands out.
    let membrane = Rc::new(MembraneServer::live(
        started.exports(),
        epochs.clone(),
        rpc_budget.clone(),
    ));
    // pid0's vat: on an in-process pipe for Wasm, on a socket at its fd 3
    // for a native pid0; the same membrane and bounds either way.
    let bootstrap = membrane.client().client;
    let (exported, pid0_vat, end) = match &kernel {
        Kernel::Wasm(_) => {
            let (host_end, guest_end) = transport::pipe(&membrane);
            let (exported, vat) = vat::connect(host_end, bootstrap, rpc_budget);
            (exported, vat, kernel::End::Wasm(guest_end))
        }
        Kernel::Native { .. } => {
            let (host_end, cell_end) = native::rpc_pair().map_err(|source| NativeError::Io {
                cell: "pid0".into(),
                what: "create its RPC socket",
                source,
            })?;
            let (exported, vat) = vat::connect(host_end, bootstrap, rpc_budget);
            (exported, vat, kernel::End::Native(cell_end))
        }
    };
    // What pid0 asks of the node is charged to it; its children take their
    // CPU shares inside its own.
    let pid0_share = engine.cpu().top("pid0");
    let pid0 = Caller {
        compile: engine.compiler().account("pid0"),
        cpu: pid0_share.clone(),
    };
    tokio::task::spawn_local(caller::on_behalf_of(
        pid0.clone(),
        pid0_share.charged(pid0_vat),
    ));
    // A front end follows the epoch (the MCP server grafts again and tells
    // its client the tools changed).
    let epoch_changes = epochs.subscribe();
    // Held until pid0 ends: dropping it stops serving the terminal. Remote
    // shell sessions share one RPC account, reserved like a cell's.
    let _terminal = match budget.reserve(memory.rpc) {
        Ok(reserved) => serve_terminal(
            &started.guest_exports(),
            exported.clone(),
            allowed,
            epochs,
            options.rpc,
        )
        .await
        .map(|served| (served, reserved)),
        Err(e) => {
            tracing::warn!(
                "cannot serve the terminal, so no remote shell reaches this node: the memory \
                 budget cannot hold its sessions' RPC bounds ({e}); raise --max-memory-total"
            );
            None
        }
    };

    let limits = Limits {
        memory: Some(memory.pid0),
        cpu: None,
    };
    let run = match (kernel, end) {
        (Kernel::Native { program, argv0 }, kernel::End::Native(cell_end)) => {
            let runner = natives
                .clone()
                .expect("a native pid0 has its runner (made when its kernel was found)");
            let launch = kernel::native_launch(&options, program, argv0, env, root, limits);
            let share = pid0_share.clone();
            let native = async move { Ok(runner.run(launch, cell_end, &share).await?) };
            caller::on_behalf_of(pid0, Box::pin(native) as Pid0)
        }
        (Kernel::Wasm(component), kernel::End::Wasm(guest_end)) => {
            let mut argv = vec!["boot/main.wasm".to_string()];
            argv.extend(options.args.iter().cloned());
            let mut spec = Spec {
                name: boot.display().to_string(),
                argv,
                env,
                root: Some(root),
                limits,
                share: Some(pid0_share),
                ..Spec::default()
            };
            // A terminal or MCP front end drives pid0's exported Shell.
            let frontend = options
                .frontend
                .map(|f| crate::shell::attach(f, exported, epoch_changes, &mut spec));
            let cells = cells.clone();
            let engine = engine.clone();
            let wasm = async move {
                let code = Code::Component(component);
                let pid0 = cells.run(&engine, &code, spec, guest_end);
                Ok(match frontend {
                    None => pid0.await?,
                    Some((frontend, drained)) => tokio::select! {
                        status = pid0 => {
                            let status = status?;
                            // What pid0 wrote last may still be in its pipes.
                            if tokio::time::timeout(DRAIN, drained).await.is_err() {
                                tracing::warn!("pid0's output did not end within {DRAIN:?} of its exit");
                            }
                            status
                        }
                        code = frontend => code,
                    },
                })
            };
            caller::on_behalf_of(pid0, Box::pin(wasm) as Pid0)
        }
        _ => unreachable!("pid0's end of its vat matches its kernel"),
    };
    match natives {
        // ww ending on a signal ends every native tree first (they would
        // outlive it otherwise).
        Some(natives) => {
            let status = tokio::select! {
                status = run => status,
                signal = kernel::stop_signal() => {
                    tracing::info!("ww got signal {signal}: ending every native cell");
                    Ok(128 + signal)
                }
            };
            natives.tree().kill_all();
            status
        }
        None => run.await,
    }
}

/// pid0's run, Wasm or native.
type Pid0 = std::pin::Pin<Box<dyn std::future::Future<Output = Result<i32, NodeError>>>>;

/// How long ww waits, once pid0 exits, for the rest of its output to be
/// shown (its pipes end when its cell is dropped, at once).
const DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// The image before the providers start: ready, or (with IPFS layers) only
/// its root directory, filled once the layers are fetched.
enum Pending {
    Ready(Image, Kernel),
    Fetch(tempfile::TempDir),
}

fn identity_key(path: Option<&PathBuf>) -> Result<ed25519_dalek::SigningKey, KeyError> {
    Ok(match path {
        Some(path) => key::read(path)?,
        // Said only once a provider reads the key (see `run`): a node with
        // no provider that needs an identity has nothing to warn about.
        None => key::generate(),
    })
}

/// Serves the node's terminal (see [`ww_core::terminal::serve`]); a node
/// whose host cannot serve it runs on without, saying so.
async fn serve_terminal(
    exports: &[ww_provider_sdk::Export],
    pid0: ww_provider_sdk::capnp::capability::Client,
    allowed: Vec<ed25519_dalek::VerifyingKey>,
    epochs: Rc<Epochs>,
    rpc: RpcLimits,
) -> Option<ww_core::terminal::serve::Served> {
    use ww_core::terminal::serve;
    let served = async {
        let budget = CellBudget::new("remote shell sessions", rpc);
        let session = serve::session(exports.to_vec(), pid0, epochs.clone(), budget)?;
        serve::serve(exports, session, allowed, epochs).await
    };
    match served.await {
        Ok(Some(served)) => {
            tracing::info!("remote shell: {}", served.command);
            Some(served)
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!("cannot serve the terminal, so no remote shell reaches this node: {e}");
            None
        }
    }
}

async fn revoke_on_hup(mut hup: tokio::signal::unix::Signal, epochs: Rc<Epochs>) {
    while hup.recv().await.is_some() {
        epochs.advance(Vec::new());
    }
}
