//! The core's cell runtime as a capability (`Cells`, `Code`), exported to
//! providers only: the executor provider builds the guest-facing `Executor`
//! on it, so one engine, one compile cache and one count of live cells serve
//! the whole node.
//!
//! A child runs as a task on the node's `LocalSet`, next to the RPC servers;
//! the engine's time slices (see [`engine`](crate::engine)) make a busy
//! child yield to everything else. Code is compiled off the node's thread,
//! within the bounds of [`compile`](crate::compile), and kept in
//! [`code_cache`]. A native executable of the image runs as a native child
//! when the node allows it (see [`native`](crate::native)).

pub mod code_cache;
mod native;
mod process;
mod stream;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::FutureExt;
use tokio::sync::watch;
use ww_provider_sdk::capnp;
use ww_provider_sdk::ww_capnp::system_capnp::{byte_stream, cells, code, limits};
use ww_provider_sdk::Export;

use crate::caller::{self, Caller};
use crate::cell::{CellError, Cells as Runner, Linked, Spec, Stdio};
use crate::cpu::Share;
use crate::engine::{Engine, POOL_MEMORY};
use crate::epoch::Epochs;
use crate::limits::Limits;
use crate::membrane::MembraneServer;
use crate::memory_budget::{show, MemoryBudget, Reservation};
use crate::native::program::{self, Kind};
use crate::rpc_budget::{CellBudget, RpcLimits};
use crate::{transport, vat};
use code_cache::{CodeCache, Compiled, Key};
pub use process::ProcessServer;
use stream::StreamServer;

/// Bytes buffered in a child's stdio pipes.
const PIPE: usize = 64 * 1024;

/// What every child of a node shares.
pub struct Runtime {
    engine: Rc<Engine>,
    runner: Rc<Runner>,
    image: PathBuf,
    epochs: Rc<Epochs>,
    defaults: Limits,
    max_live: u32,
    rpc: RpcLimits,
    live: Rc<Cell<u32>>,
    budget: Arc<MemoryBudget>,
    compiled: RefCell<CodeCache>,
    // Runs native children; `None`: the node runs none.
    native: Option<Rc<crate::native::Runner>>,
    // Spawning by path happens on every `Executor.spawn`: a file seen before,
    // unchanged (same size and mtime), is not read or hashed again.
    opened: RefCell<HashMap<PathBuf, (u64, SystemTime, Key)>>,
}

/// What bounds every child of a node, besides the memory budget.
#[derive(Clone, Copy, Debug)]
pub struct ChildBounds {
    /// Limits of a child whose spawn sets none.
    pub defaults: Limits,
    /// Children alive at once (`--max-cells`).
    pub max_live: u32,
    /// What each child may make the node hold for its RPC.
    pub rpc: RpcLimits,
}

impl Runtime {
    /// A runtime spawning from `image` within `bounds`, each child's memory
    /// limit reserved from `budget` while it lives; native executables of
    /// the image run through `native`, when given.
    pub fn new(
        engine: Rc<Engine>,
        runner: Rc<Runner>,
        image: PathBuf,
        epochs: Rc<Epochs>,
        bounds: ChildBounds,
        budget: Arc<MemoryBudget>,
        native: Option<Rc<crate::native::Runner>>,
    ) -> Rc<Runtime> {
        let ChildBounds {
            defaults,
            max_live,
            rpc,
        } = bounds;
        Rc::new(Runtime {
            engine: engine.clone(),
            runner,
            image,
            epochs,
            defaults,
            max_live,
            rpc,
            live: Rc::new(Cell::new(0)),
            budget,
            compiled: RefCell::new(CodeCache::new(
                engine.compiler().options().code_cache_max_size,
            )),
            native,
            opened: RefCell::new(HashMap::new()),
        })
    }

    /// This runtime as the providers-only `cells` capability.
    pub fn client(self: &Rc<Self>) -> cells::Client {
        capnp_rpc::new_client(CellsServer(self.clone()))
    }

    /// Compiles `wasm` (off the node's thread, charged to the calling
    /// cell), or returns the code compiled from the same bytes before. Loads
    /// of the same bytes at once share one compile.
    async fn compile(
        self: &Rc<Self>,
        wasm: Vec<u8>,
        what: &str,
    ) -> capnp::Result<(Key, Rc<Compiled>)> {
        // Charged to the caller, read here: a shared compile may be driven
        // by another cell's task.
        let account = self.engine.compiler().caller();
        self.engine
            .compiler()
            .check_size(&account, wasm.len(), what)
            .map_err(|e| e.to_capnp())?;
        let (key, wasm) = content_key(wasm).await?;
        if let Some(compiled) = self.compiled.borrow_mut().get(&key) {
            return Ok((key, compiled));
        }
        let in_flight = self.compiled.borrow().in_flight(&key);
        let compile = match in_flight {
            Some(compile) => compile,
            None => {
                let runtime = self.clone();
                let what = what.to_string();
                let compile = async move {
                    let result = runtime
                        .engine
                        .compiler()
                        .compile(&runtime.engine, &account, &key, wasm, &what)
                        .await
                        .map(|code| Rc::new(Compiled::new(code)))
                        .map_err(|e| e.to_capnp());
                    runtime.compiled.borrow_mut().finish(key, &result);
                    result
                }
                .boxed_local()
                .shared();
                self.compiled.borrow_mut().start(key, &compile);
                compile
            }
        };
        Ok((key, compile.await?))
    }

    /// The file at `path` of the image, compiled (see `opened`).
    async fn open(self: &Rc<Self>, path: &str) -> capnp::Result<(Key, Rc<Compiled>)> {
        let file = self.resolve(path)?;
        let not_found = |e: std::io::Error| {
            capnp::Error::failed(format!(
                "{path} not found in the image ({e}) (status {})",
                crate::limits::status::NOT_FOUND
            ))
        };
        let meta = std::fs::metadata(&file).map_err(not_found)?;
        let stamp = (
            meta.len(),
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        );
        let seen = self.opened.borrow().get(&file).copied();
        if let Some((len, mtime, key)) = seen {
            if (len, mtime) == stamp {
                if let Some(compiled) = self.compiled.borrow_mut().get(&key) {
                    return Ok((key, compiled));
                }
            }
        }
        let wasm = std::fs::read(&file).map_err(not_found)?;
        let (key, compiled) = self.compile(wasm, path).await?;
        self.opened
            .borrow_mut()
            .insert(file, (stamp.0, stamp.1, key));
        Ok((key, compiled))
    }

    /// The file at `path` of the image: a native executable (refused when
    /// the node runs no native children), else compiled as [`open`] does.
    ///
    /// [`open`]: Runtime::open
    async fn open_any(self: &Rc<Self>, path: &str) -> capnp::Result<Opened> {
        let file = self.resolve(path)?;
        if let Ok(Kind::Native) = program::kind(&file) {
            if self.native.is_none() {
                return Err(native::not_allowed(path));
            }
            return Ok(Opened::Native(file));
        }
        let (key, compiled) = self.open(path).await?;
        Ok(Opened::Wasm(key, compiled))
    }

    /// The code of `key` linked for running, linking it on first use.
    fn linked(&self, key: &Key, name: &str) -> Result<Linked, CellError> {
        let compiled =
            self.compiled
                .borrow_mut()
                .get(key)
                .ok_or_else(|| CellError::NotRunnable {
                    what: name.to_string(),
                    reason: "its compiled code was dropped (a bug in ww)".to_string(),
                })?;
        compiled.linked(&self.runner, name)
    }

    /// `path` inside the image, refusing anything that would leave it.
    fn resolve(&self, path: &str) -> capnp::Result<PathBuf> {
        let relative: PathBuf = Path::new(path)
            .components()
            .filter(|c| !matches!(c, Component::RootDir | Component::CurDir))
            .collect();
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(capnp::Error::failed(format!(
                "`{path}` leaves the image: use a path inside it, without `..`"
            )));
        }
        Ok(self.image.join(relative))
    }

    /// What every child is given, from its spawn's parameters, with its
    /// memory reserved and its place in the CPU tree made.
    fn child(&self, params: code::SpawnParams) -> capnp::Result<Child> {
        let params = params.get()?;
        if self.live.get() >= self.max_live {
            return Err(capnp::Error::overloaded(format!(
                "this node already runs {} cells, its limit (--max-cells); wait for one to exit",
                self.max_live
            )));
        }
        let argv = texts(params.get_args()?)?;
        let env = texts(params.get_env()?)?
            .into_iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
                _ => Err(capnp::Error::failed(format!(
                    "env entry `{kv}` is not KEY=VALUE"
                ))),
            })
            .collect::<capnp::Result<Vec<_>>>()?;
        let caps = params
            .get_caps()?
            .iter()
            .map(Export::read)
            .collect::<capnp::Result<Vec<_>>>()?;
        let root = match params.get_root()?.to_str()? {
            "" => None,
            dir => {
                let dir = self.resolve(dir)?;
                if !dir.is_dir() {
                    return Err(capnp::Error::failed(format!(
                        "root {} is not a directory of the image",
                        dir.display()
                    )));
                }
                Some(dir)
            }
        };
        let limits = read_limits(params.get_limits()?).or(self.defaults);
        let name = argv.first().cloned().unwrap_or_else(|| "child".into());
        let reserved = self.reserve(&name, &limits)?;
        // The child's CPU share is a group inside its parent's, and what it
        // asks of the node is charged to it.
        let share = match caller::current() {
            Some(parent) => parent.cpu.child(&name),
            None => self.engine.cpu().top(&name),
        };
        let caller = Caller {
            compile: self.engine.compiler().account(&name),
            cpu: share.clone(),
        };
        // The child's own membrane: exactly the capabilities it was given,
        // guarded by the current epoch like everything that leaves a membrane.
        let budget = CellBudget::new(name.clone(), self.rpc);
        let membrane = Rc::new(MembraneServer::new(
            caps,
            self.epochs.clone(),
            budget.clone(),
        ));
        Ok(Child {
            name,
            argv,
            env,
            root,
            limits,
            reserved,
            share,
            caller,
            budget,
            membrane,
        })
    }

    fn spawn(
        self: &Rc<Self>,
        key: Key,
        params: code::SpawnParams,
        results: &mut code::SpawnResults,
    ) -> capnp::Result<()> {
        let Child {
            name,
            argv,
            env,
            root,
            limits,
            reserved,
            share,
            caller: me,
            budget,
            membrane,
        } = self.child(params)?;
        let (stdin_host, stdin) = tokio::io::duplex(PIPE);
        let (stdout_host, stdout) = tokio::io::duplex(PIPE);
        let (stderr_host, stderr) = tokio::io::duplex(PIPE);
        let linked = self.linked(&key, &name);
        let spec = Spec {
            name: name.clone(),
            argv,
            env,
            root,
            stdio: Stdio::Piped {
                stdin,
                stdout,
                stderr,
            },
            limits,
            share: Some(share.clone()),
        };
        let (host_end, guest_end) = transport::pipe(&membrane);
        let (exported, vat) = vat::connect(host_end, membrane.client().client, budget);
        tokio::task::spawn_local(caller::on_behalf_of(me.clone(), share.charged(vat)));

        let runtime = self.clone();
        let run = async move {
            let started = match linked {
                Ok(linked) => {
                    runtime
                        .runner
                        .run_linked(&runtime.engine, &linked, spec, guest_end)
                        .await
                }
                Err(e) => Err(e),
            };
            started.map_err(|e| (e.to_string(), e.exit_code()))
        };
        let process = self.start(
            Started {
                name,
                reserved,
                share,
                caller: me,
                exported,
            },
            run,
            Stdio3 {
                stdin: StreamServer::writing(stdin_host, "the child's stdin"),
                stdout: StreamServer::reading(stdout_host, "the child's stdout"),
                stderr: StreamServer::reading(stderr_host, "the child's stderr"),
            },
        );
        results.get().set_process(process);
        Ok(())
    }

    /// Runs a child's `run` (its whole life, to its exit status or why it
    /// did not start) as a task of its own, and hands out its `Process`.
    fn start<F>(
        &self,
        started: Started,
        run: F,
        stdio: Stdio3,
    ) -> ww_provider_sdk::ww_capnp::system_capnp::process::Client
    where
        F: std::future::Future<Output = Result<i32, (String, i32)>> + 'static,
    {
        let Started {
            name,
            reserved,
            share,
            caller: me,
            exported,
        } = started;
        let (finish, exit) = watch::channel(None);
        let finish = Rc::new(finish);
        let live = LiveCell::enter(&self.live);
        let done = finish.clone();
        let task = tokio::task::spawn_local(caller::on_behalf_of(me, async move {
            // Both end with the task: when the child exits, or once a kill
            // has aborted it (and its store, with its memory, is dropped; a
            // native child's process group is killed).
            let _live = live;
            let _reserved = reserved;
            let status = match run.await {
                Ok(status) => status,
                Err((why, status)) => {
                    tracing::warn!("child {name} did not start: {why}");
                    status
                }
            };
            done.send_if_modified(|s| {
                let first = s.is_none();
                if first {
                    *s = Some(status);
                }
                first
            });
        }));
        capnp_rpc::new_client(ProcessServer {
            stdin: stdio.stdin,
            stdout: stdio.stdout,
            stderr: stdio.stderr,
            exit,
            finish,
            task: task.abort_handle(),
            exported,
            share,
        })
    }
}

/// A child about to run: what [`Runtime::child`] made of its spawn.
struct Child {
    name: String,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    root: Option<PathBuf>,
    limits: Limits,
    reserved: Reservation,
    share: Share,
    caller: Caller,
    budget: Rc<CellBudget>,
    membrane: Rc<MembraneServer>,
}

/// What a running child's task and `Process` hold.
struct Started {
    name: String,
    reserved: Reservation,
    share: Share,
    caller: Caller,
    exported: capnp::capability::Client,
}

/// A child's stdio, as its parent sees it.
struct Stdio3 {
    stdin: byte_stream::Client,
    stdout: byte_stream::Client,
    stderr: byte_stream::Client,
}

impl Runtime {
    /// Reserves the memory limit of the child `name` from the node's
    /// budget, with what its RPC bounds let it make the node hold, refusing a limit no cell can have (`failed`: asking again
    /// cannot help) or one that does not fit now (`overloaded`: it may
    /// once other cells exit).
    fn reserve(&self, name: &str, limits: &Limits) -> capnp::Result<Reservation> {
        // `defaults` sets a memory limit, so this is the child's or the
        // node's; a child without one would be bounded by its slot.
        let limit = limits.memory.unwrap_or(POOL_MEMORY);
        let total = self.budget.total();
        if limit > POOL_MEMORY {
            return Err(capnp::Error::failed(format!(
                "cannot spawn {name}: a memory limit of {} (limits.maxMemoryBytes) is more than \
                 one cell can have ({}, an instance slot); ask for at most {POOL_MEMORY} bytes",
                show(limit),
                show(POOL_MEMORY)
            )));
        }
        let rpc = self.rpc.held_bytes();
        let reservation = limit.saturating_add(rpc);
        if reservation > total {
            return Err(capnp::Error::failed(format!(
                "cannot spawn {name}: a memory limit of {} (limits.maxMemoryBytes), with the {} \
                 its RPC bounds let it make the node hold, is more than this node's whole memory \
                 budget ({}, --max-memory-total); ask for less",
                show(limit),
                show(rpc),
                show(total)
            )));
        }
        self.budget.reserve(reservation).map_err(|e| {
            if self.budget.should_warn() {
                tracing::warn!(
                    "memory budget full: refused to spawn cell {name}: {e} (--max-memory-total)"
                );
            }
            capnp::Error::overloaded(format!(
                "cannot spawn {name}: its memory limit of {} (and the {} its RPC bounds let it \
                 make the node hold) does not fit in this node's memory budget \
                 (--max-memory-total {}, of which live cells have reserved {}); wait for a cell \
                 to exit or ask for a smaller limits.maxMemoryBytes (the operator can raise \
                 --max-memory-total)",
                show(limit),
                show(rpc),
                show(total),
                show(e.reserved)
            ))
        })
    }
}

/// Wasm this big is hashed on a blocking thread, not the node's (SHA-256 of
/// tens of MiB takes a noticeable while, far longer in a debug build).
const HASH_INLINE: usize = 256 << 10;

/// The content key of `wasm` (its SHA-256), and the wasm, shareable.
async fn content_key(wasm: Vec<u8>) -> capnp::Result<(Key, Arc<Vec<u8>>)> {
    let wasm = Arc::new(wasm);
    if wasm.len() <= HASH_INLINE {
        return Ok((crate::cache::key(&wasm), wasm));
    }
    let hashed = wasm.clone();
    let key = tokio::task::spawn_blocking(move || crate::cache::key(&hashed))
        .await
        .map_err(|e| capnp::Error::failed(format!("cannot hash the wasm: {e}")))?;
    Ok((key, wasm))
}

/// What a path of the image holds.
enum Opened {
    /// Wasm, compiled.
    Wasm(Key, Rc<Compiled>),
    /// A native executable, on the host.
    Native(PathBuf),
}

/// Counts a live child for as long as its task lives (also when aborted).
struct LiveCell(Rc<Cell<u32>>);

impl LiveCell {
    fn enter(live: &Rc<Cell<u32>>) -> LiveCell {
        live.set(live.get() + 1);
        LiveCell(live.clone())
    }
}

impl Drop for LiveCell {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

fn texts(list: capnp::text_list::Reader<'_>) -> capnp::Result<Vec<String>> {
    list.iter().map(|t| Ok(t?.to_str()?.to_string())).collect()
}

fn read_limits(limits: limits::Reader<'_>) -> Limits {
    let nonzero = |v: u64| (v != 0).then_some(v);
    Limits {
        memory: nonzero(limits.get_max_memory_bytes()).map(|b| b as usize),
        cpu: nonzero(limits.get_cpu_millis()).map(Duration::from_millis),
    }
}

struct CellsServer(Rc<Runtime>);

impl CellsServer {
    fn code(&self, (key, compiled): (Key, Rc<Compiled>)) -> code::Client {
        capnp_rpc::new_client(CodeServer {
            runtime: self.0.clone(),
            key,
            compiled,
        })
    }
}

impl cells::Server for CellsServer {
    async fn load(
        self: Rc<Self>,
        params: cells::LoadParams,
        mut results: cells::LoadResults,
    ) -> Result<(), capnp::Error> {
        let wasm = params.get()?.get_wasm()?.to_vec();
        let compiled = self.0.compile(wasm, "the loaded wasm").await?;
        results.get().set_code(self.code(compiled));
        Ok(())
    }

    async fn open(
        self: Rc<Self>,
        params: cells::OpenParams,
        mut results: cells::OpenResults,
    ) -> Result<(), capnp::Error> {
        let path = params.get()?.get_path()?.to_str()?.to_string();
        let code = match self.0.open_any(&path).await? {
            Opened::Wasm(key, compiled) => self.code((key, compiled)),
            Opened::Native(program) => capnp_rpc::new_client(native::NativeCodeServer {
                runtime: self.0.clone(),
                program,
            }),
        };
        results.get().set_code(code);
        Ok(())
    }
}

/// Holds its own reference to the code, so the code cache may evict it
/// while the capability lives.
struct CodeServer {
    runtime: Rc<Runtime>,
    key: Key,
    compiled: Rc<Compiled>,
}

impl code::Server for CodeServer {
    async fn spawn(
        self: Rc<Self>,
        params: code::SpawnParams,
        mut results: code::SpawnResults,
    ) -> Result<(), capnp::Error> {
        // Held again (the most recently used) for the spawn to link it.
        self.runtime
            .compiled
            .borrow_mut()
            .insert(self.key, self.compiled.clone());
        self.runtime.spawn(self.key, params, &mut results)
    }
}
