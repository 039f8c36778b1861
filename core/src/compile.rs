//! Bounded compilation of the code cells load.
//!
//! A cell can hand the node any wasm it likes (`Runtime.load`), and a
//! module can be built to be slow to compile: one huge function keeps
//! Cranelift busy for seconds to minutes, and Wasmtime cannot cancel a
//! compilation once it has started. So compiling a cell's code:
//!
//! - **never runs on the node's thread.** It runs in a compile worker: a
//!   child process that is this same `ww` binary ([`WORKER_COMMAND`]),
//!   reading the wasm on stdin and writing Wasmtime's serialized code on
//!   stdout, which the node then loads (about a millisecond). Embedders
//!   without a `ww` binary (the library's own tests) compile on a blocking
//!   thread of the runtime instead, with the same bounds except that a
//!   compile past its deadline runs on to its end.
//! - **takes at most one core.** One compile runs at a time per node (the
//!   others queue, each cell with at most one compile waiting), and the
//!   worker compiles a module's functions one after the other
//!   (`parallel_compilation` off).
//! - **is bounded in size** (`--max-module-size`): bigger wasm is refused
//!   before anything is spent on it.
//! - **is bounded in time** (`--compile-timeout`): the worker ends itself at
//!   the deadline (a watchdog thread exits the process), so the time bound
//!   is real — the core it used is free again, and so is the memory
//!   Cranelift took, which never counted in the node's own. The cell's
//!   load fails naming the bound; nothing of the compile is kept.
//! - **is charged to the cell that asked** (`--compile-budget`): each cell
//!   has a budget of compile time, a bucket of that many seconds refilled
//!   at that many seconds per [`BUDGET_WINDOW`]; the wall time of each of
//!   its compiles (the whole deadline, for one stopped there) is taken
//!   from it, and a cell whose bucket is empty is refused until it refills.
//!   A load its caller gives up on is charged the whole deadline: its
//!   worker runs on, holding the compile slot, until it ends itself.
//!   Code found in a cache costs nothing. The cell is known from the task
//!   its call runs in (see [`caller`](crate::caller)); calls that come
//!   from no cell (a remote session, a provider of its own) share one
//!   account.
//!
//! Hitting a bound fails that load only, and logs one WARN per cell and
//! bound, naming both.

use std::cell::Cell;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use ww_provider_sdk::capnp;

use crate::engine::{self, Code, Engine, WasmError};

/// Largest wasm, in bytes, a cell may ask the node to compile, unless the
/// node says (`--max-module-size`). Big real components (an interpreter
/// built as a component) are tens of MiB.
pub const DEFAULT_MAX_MODULE_SIZE: usize = 64 << 20;
/// Longest one compile may run, unless the node says (`--compile-timeout`).
/// A 1.5 MiB component compiles in well under a second in a release build;
/// a debug build of ww runs an unoptimized Cranelift, some 20 to 50 times
/// slower, so its default is ten times longer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * DEBUG_FACTOR);
/// Compile time a cell may spend per [`BUDGET_WINDOW`], unless the node says
/// (`--compile-budget`); ten times more in a debug build of ww, as
/// [`DEFAULT_TIMEOUT`].
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(120 * DEBUG_FACTOR);
const DEBUG_FACTOR: u64 = if cfg!(debug_assertions) { 10 } else { 1 };
/// The period over which a cell's compile budget refills in full.
pub const BUDGET_WINDOW: Duration = Duration::from_secs(600);

/// The hidden `ww` subcommand that runs a compile worker.
pub const WORKER_COMMAND: &str = "compile-worker";
/// Exit status of a worker that reached its deadline.
const WORKER_TIMED_OUT: i32 = 3;
/// Exit status of a worker whose wasm did not validate.
const WORKER_INVALID: i32 = 2;
/// How long past the deadline the node waits for a worker that did not end
/// itself (it should never be needed).
const WORKER_GRACE: Duration = Duration::from_secs(5);

/// The bounds on compiling cells' code.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// `--max-module-size`, in bytes.
    pub max_module_size: usize,
    /// `--compile-timeout`.
    pub timeout: Duration,
    /// `--compile-budget`: per cell, refilled over [`BUDGET_WINDOW`].
    pub budget: Duration,
    /// The `ww` binary to run compile workers from; `None` compiles on a
    /// blocking thread of this process.
    pub worker: Option<PathBuf>,
    /// `--code-cache-max-size`: bytes of compiled code kept in memory.
    pub code_cache_max_size: usize,
    /// `--cache-max-size`: bytes of compiled code kept in the cache
    /// directory.
    pub cache_max_size: u64,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            max_module_size: DEFAULT_MAX_MODULE_SIZE,
            timeout: DEFAULT_TIMEOUT,
            budget: DEFAULT_BUDGET,
            worker: None,
            code_cache_max_size: crate::cells::code_cache::DEFAULT_MAX_SIZE,
            cache_max_size: crate::cache::DEFAULT_MAX_SIZE,
        }
    }
}

/// Why a cell's code was not compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// Over `--max-module-size`.
    #[error(
        "{what} is {size} bytes, over this node's limit of {max} bytes for one module \
         (--max-module-size); load smaller modules, or ask the node's operator to raise the limit"
    )]
    TooLarge {
        /// The wasm.
        what: String,
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Past `--compile-timeout`.
    #[error(
        "compiling {what} took longer than this node's limit of {secs} s (--compile-timeout) \
         and was stopped; make its functions smaller (one huge function compiles slowly), or \
         ask the node's operator to raise the limit",
        secs = .limit.as_secs_f64()
    )]
    TimedOut {
        /// The wasm.
        what: String,
        /// The limit.
        limit: Duration,
    },
    /// The cell's `--compile-budget` is spent.
    #[error(
        "cell {cell} has spent its compile budget ({budget_s} s of compiling per {window} s, \
         --compile-budget); load code compiled before (the same bytes cost nothing), or retry \
         in {wait_s} s",
        budget_s = .budget.as_secs_f64(),
        window = BUDGET_WINDOW.as_secs(),
        wait_s = .wait.as_secs() + 1
    )]
    OverBudget {
        /// The cell.
        cell: String,
        /// Its budget.
        budget: Duration,
        /// Until it may compile again.
        wait: Duration,
    },
    /// The wasm itself is wrong.
    #[error(transparent)]
    Wasm(#[from] WasmError),
    /// The worker could not run or failed without saying why.
    #[error("the compile worker failed ({0}); the load can be retried")]
    Worker(String),
}

impl CompileError {
    /// The error a cell's call fails with: `overloaded` for a budget that
    /// refills, `failed` otherwise (the wasm's own errors carry the cell
    /// API status).
    pub fn to_capnp(&self) -> capnp::Error {
        match self {
            CompileError::OverBudget { .. } => capnp::Error::overloaded(self.to_string()),
            CompileError::Wasm(e) => {
                capnp::Error::failed(format!("{e} (status {})", e.exit_code()))
            }
            _ => capnp::Error::failed(self.to_string()),
        }
    }

    fn bound(&self) -> Option<u8> {
        match self {
            CompileError::TooLarge { .. } => Some(1),
            CompileError::TimedOut { .. } => Some(2),
            CompileError::OverBudget { .. } => Some(4),
            _ => None,
        }
    }
}

/// One cell's compile budget.
pub struct Account {
    name: String,
    budget: f64,
    balance: Cell<f64>,
    stamp: Cell<Instant>,
    // One compile of this cell waits for the node's slot at a time, so a
    // cell cannot fill the queue in front of the others.
    turn: Semaphore,
    warned: Cell<u8>,
}

impl Account {
    fn new(name: &str, budget: Duration) -> Account {
        Account {
            name: name.to_string(),
            budget: budget.as_secs_f64(),
            balance: Cell::new(budget.as_secs_f64()),
            stamp: Cell::new(Instant::now()),
            turn: Semaphore::new(1),
            warned: Cell::new(0),
        }
    }

    /// The cell's name, as logs show it.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn refill(&self) -> f64 {
        let now = Instant::now();
        let elapsed = now.duration_since(self.stamp.get()).as_secs_f64();
        self.stamp.set(now);
        let rate = self.budget / BUDGET_WINDOW.as_secs_f64();
        let balance = (self.balance.get() + elapsed * rate).min(self.budget);
        self.balance.set(balance);
        balance
    }

    fn check(&self) -> Result<(), CompileError> {
        let balance = self.refill();
        if balance > 0.0 {
            return Ok(());
        }
        let rate = self.budget / BUDGET_WINDOW.as_secs_f64();
        let wait = if rate > 0.0 {
            Duration::from_secs_f64((-balance / rate).min(1e9))
        } else {
            BUDGET_WINDOW
        };
        Err(CompileError::OverBudget {
            cell: self.name.clone(),
            budget: Duration::from_secs_f64(self.budget),
            wait,
        })
    }

    fn charge(&self, spent: Duration) {
        self.refill();
        self.balance.set(self.balance.get() - spent.as_secs_f64());
    }

    /// Logs a bound this cell hit: one WARN per cell and bound, then debug.
    fn report(&self, e: &CompileError) {
        let Some(bit) = e.bound() else { return };
        if self.warned.get() & bit == 0 {
            self.warned.set(self.warned.get() | bit);
            tracing::warn!(cell = %self.name, "{e}");
        } else {
            tracing::debug!(cell = %self.name, "{e}");
        }
    }
}

/// Compiles cells' code within [`CompileOptions`].
pub struct Compiler {
    options: CompileOptions,
    slot: Arc<Semaphore>,
    anonymous: Rc<Account>,
}

impl Compiler {
    /// A compiler with these bounds.
    pub fn new(options: CompileOptions) -> Compiler {
        let anonymous = Rc::new(Account::new("(no cell)", options.budget));
        Compiler {
            options,
            slot: Arc::new(Semaphore::new(1)),
            anonymous,
        }
    }

    /// Its bounds.
    pub fn options(&self) -> &CompileOptions {
        &self.options
    }

    /// A fresh budget for the cell called `name`.
    pub fn account(&self, name: &str) -> Rc<Account> {
        Rc::new(Account::new(name, self.options.budget))
    }

    /// The account of the cell the current task runs for (see
    /// [`caller`](crate::caller)), or the one shared by calls from no cell.
    pub fn caller(&self) -> Rc<Account> {
        crate::caller::current()
            .map(|c| c.compile)
            .unwrap_or_else(|| self.anonymous.clone())
    }

    /// Refuses wasm over `--max-module-size` before anything (even hashing
    /// it) is spent on it; the refusal is reported like [`Compiler::compile`]'s.
    ///
    /// # Errors
    ///
    /// [`CompileError::TooLarge`].
    pub fn check_size(
        &self,
        account: &Account,
        size: usize,
        what: &str,
    ) -> Result<(), CompileError> {
        if size <= self.options.max_module_size {
            return Ok(());
        }
        let e = CompileError::TooLarge {
            what: what.to_string(),
            size,
            max: self.options.max_module_size,
        };
        account.report(&e);
        Err(e)
    }

    /// The code for `wasm`, whose SHA-256 is `key`: from the disk cache, or
    /// compiled within the bounds and charged to `account` (then stored in
    /// the cache).
    ///
    /// # Errors
    ///
    /// A bound the load hit, or what is wrong with the wasm.
    pub async fn compile(
        &self,
        engine: &Engine,
        account: &Account,
        key: &[u8; 32],
        wasm: Arc<Vec<u8>>,
        what: &str,
    ) -> Result<Code, CompileError> {
        let result = self.compile_inner(engine, account, key, wasm, what).await;
        if let Err(e) = &result {
            account.report(e);
        }
        result
    }

    async fn compile_inner(
        &self,
        engine: &Engine,
        account: &Account,
        key: &[u8; 32],
        wasm: Arc<Vec<u8>>,
        what: &str,
    ) -> Result<Code, CompileError> {
        Engine::check_wasm(&wasm, what)?;
        if wasm.len() > self.options.max_module_size {
            return Err(CompileError::TooLarge {
                what: what.to_string(),
                size: wasm.len(),
                max: self.options.max_module_size,
            });
        }
        if let Some(cached) = engine.cached(key, what) {
            return Ok(cached?);
        }
        if !engine::CAN_COMPILE {
            return Err(WasmError::NotPrecompiled {
                path: what.to_string(),
            }
            .into());
        }
        let _turn = account
            .turn
            .acquire()
            .await
            .map_err(|e| CompileError::Worker(e.to_string()))?;
        account.check()?;
        let slot = self
            .slot
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| CompileError::Worker(e.to_string()))?;
        let timeout = self.options.timeout;
        let mut charge = Charge {
            account,
            started: Instant::now(),
            abandoned: timeout,
        };
        let artefact = match &self.options.worker {
            Some(exe) => {
                let (exe, input) = (exe.clone(), wasm.clone());
                let target = engine.target().wasmtime_target();
                let worker = tokio::task::spawn_blocking(move || {
                    let _slot = slot;
                    run_worker(&exe, &input, target.as_deref(), timeout)
                });
                match tokio::time::timeout(timeout + WORKER_GRACE, worker).await {
                    Ok(Ok(result)) => result,
                    Ok(Err(e)) => Err(CompileError::Worker(e.to_string())),
                    Err(_) => Err(CompileError::TimedOut {
                        what: String::new(),
                        limit: timeout,
                    }),
                }
            }
            None => in_process(engine.wasmtime().clone(), wasm.clone(), timeout, slot).await,
        };
        charge.done();
        let artefact = artefact.map_err(|e| match e {
            CompileError::TimedOut { limit, .. } => CompileError::TimedOut {
                what: what.to_string(),
                limit,
            },
            CompileError::Wasm(WasmError::Invalid { reason, .. }) => {
                CompileError::Wasm(WasmError::Invalid {
                    path: what.to_string(),
                    reason,
                })
            }
            other => other,
        })?;
        Ok(engine.from_artefact(key, &artefact, what)?)
    }
}

/// Charges a compile's wall time to its account when it ends; a compile
/// whose caller went away is charged its whole deadline, since the worker
/// goes on (holding the node's compile slot) until it ends itself.
struct Charge<'a> {
    account: &'a Account,
    started: Instant,
    abandoned: Duration,
}

impl Charge<'_> {
    fn done(&mut self) {
        self.abandoned = self.started.elapsed();
    }
}

impl Drop for Charge<'_> {
    fn drop(&mut self) {
        self.account.charge(self.abandoned);
    }
}

/// Compiles on a blocking thread; past the deadline the caller gets its
/// answer and the thread runs on, holding the slot, until it is done.
async fn in_process(
    engine: wasmtime::Engine,
    wasm: Arc<Vec<u8>>,
    timeout: Duration,
    slot: OwnedSemaphorePermit,
) -> Result<Vec<u8>, CompileError> {
    let work = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        engine::precompile(&engine, &wasm, "")
    });
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(result)) => Ok(result?),
        Ok(Err(e)) => Err(CompileError::Worker(e.to_string())),
        Err(_) => Err(CompileError::TimedOut {
            what: String::new(),
            limit: timeout,
        }),
    }
}

/// Runs one compile worker to its end (it ends itself at `timeout`).
fn run_worker(
    exe: &Path,
    wasm: &[u8],
    target: Option<&str>,
    timeout: Duration,
) -> Result<Vec<u8>, CompileError> {
    let failed = |e: std::io::Error| CompileError::Worker(format!("{}: {e}", exe.display()));
    let mut command = Command::new(exe);
    command
        .arg(WORKER_COMMAND)
        .arg("--timeout-ms")
        .arg(timeout.as_millis().max(1).to_string());
    if let Some(target) = target {
        command.arg("--target").arg(target);
    }
    let mut child = command
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(failed)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A worker that ends early (its deadline) closes the pipe: its
        // status says why, below.
        let _ = stdin.write_all(wasm);
    }
    let out = child.wait_with_output().map_err(failed)?;
    let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
    match out.status.code() {
        Some(0) => Ok(out.stdout),
        Some(WORKER_TIMED_OUT) => Err(CompileError::TimedOut {
            what: String::new(),
            limit: timeout,
        }),
        Some(WORKER_INVALID) => Err(CompileError::Wasm(WasmError::Invalid {
            path: String::new(),
            reason: said,
        })),
        _ => Err(CompileError::Worker(format!("{}: {said}", out.status))),
    }
}

/// The compile worker's `main`: the wasm on stdin, Wasmtime's serialized
/// code on stdout, done within `timeout` or the process ends itself with
/// [`WORKER_TIMED_OUT`]; for `target`, the node's (see
/// [`Target`](crate::target::Target)). Returns the exit status.
pub fn worker_main(timeout: Duration, target: &crate::target::Target) -> i32 {
    // Wasmtime cannot stop a compilation; ending the process can.
    let watchdog = std::thread::Builder::new()
        .name("ww-compile-deadline".into())
        .spawn(move || {
            std::thread::sleep(timeout);
            eprintln!("the compile deadline passed");
            std::process::exit(WORKER_TIMED_OUT);
        });
    if let Err(e) = watchdog {
        eprintln!("cannot start the deadline watchdog: {e}");
        return 1;
    }
    let mut wasm = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut wasm) {
        eprintln!("cannot read the wasm: {e}");
        return 1;
    }
    #[cfg_attr(not(feature = "compiler"), allow(unused_mut))]
    let mut config = match engine::code_config(target) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    // One core: a module's functions compile one after the other.
    #[cfg(feature = "compiler")]
    config.parallel_compilation(false);
    let engine = match wasmtime::Engine::new(&config) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("cannot configure the engine: {e:#}");
            return 1;
        }
    };
    match engine::precompile(&engine, &wasm, "") {
        Ok(artefact) => match std::io::stdout().lock().write_all(&artefact) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("cannot write the compiled code: {e}");
                1
            }
        },
        Err(WasmError::Invalid { reason, .. }) => {
            eprint!("{reason}");
            WORKER_INVALID
        }
        Err(e) => {
            eprint!("{e}");
            WORKER_INVALID
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A core module with `_start` whose one other function has `n` adds.
    fn module(n: usize) -> Vec<u8> {
        let body = "(local.set 0 (i32.add (local.get 0) (i32.const 1)))\n".repeat(n);
        wat::parse_str(format!(
            "(module (func (export \"_start\")) (func (local i32) {body}))"
        ))
        .unwrap()
    }

    fn compiler(options: CompileOptions) -> (Engine, Compiler) {
        (Engine::new(None).unwrap(), Compiler::new(options))
    }

    #[tokio::test]
    async fn too_large_is_refused_before_compiling() {
        let (engine, compiler) = compiler(CompileOptions {
            max_module_size: 100,
            ..CompileOptions::default()
        });
        let account = compiler.account("big");
        let err = compiler
            .compile(
                &engine,
                &account,
                &crate::cache::key(&module(100)),
                Arc::new(module(100)),
                "m",
            )
            .await
            .err()
            .unwrap();
        assert!(matches!(err, CompileError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("--max-module-size"), "{err}");
        // Nothing was charged.
        assert!(account.balance.get() >= account.budget);
    }

    #[tokio::test]
    async fn a_spent_budget_refuses_the_next_compile_until_it_refills() {
        let (engine, compiler) = compiler(CompileOptions {
            budget: Duration::from_millis(1),
            ..CompileOptions::default()
        });
        let account = compiler.account("greedy");
        compiler
            .compile(
                &engine,
                &account,
                &crate::cache::key(&module(2000)),
                Arc::new(module(2000)),
                "first",
            )
            .await
            .unwrap();
        account.charge(Duration::from_secs(1));
        let err = compiler
            .compile(
                &engine,
                &account,
                &crate::cache::key(&module(1)),
                Arc::new(module(1)),
                "second",
            )
            .await
            .err()
            .unwrap();
        assert!(matches!(err, CompileError::OverBudget { .. }), "{err}");
        assert!(err.to_string().contains("cell greedy"), "{err}");
        let e = err.to_capnp();
        assert_eq!(e.kind, capnp::ErrorKind::Overloaded);
        // Another cell has its own budget.
        let other = compiler.account("other");
        compiler
            .compile(
                &engine,
                &other,
                &crate::cache::key(&module(1)),
                Arc::new(module(1)),
                "other",
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn past_the_deadline_the_load_fails_naming_the_bound() {
        let (engine, compiler) = compiler(CompileOptions {
            timeout: Duration::from_millis(1),
            ..CompileOptions::default()
        });
        let account = compiler.account("slow");
        let err = compiler
            .compile(
                &engine,
                &account,
                &crate::cache::key(&module(20_000)),
                Arc::new(module(20_000)),
                "bomb",
            )
            .await
            .err()
            .unwrap();
        assert!(matches!(err, CompileError::TimedOut { .. }), "{err}");
        assert!(err.to_string().contains("--compile-timeout"), "{err}");
    }

    #[tokio::test]
    async fn invalid_wasm_is_the_wasm_error() {
        let (engine, compiler) = compiler(CompileOptions::default());
        let account = compiler.account("c");
        let truncated = vec![0, b'a', b's', b'm', 1, 0, 0, 0, 1, 0xff];
        let err = compiler
            .compile(
                &engine,
                &account,
                &crate::cache::key(&truncated),
                Arc::new(truncated),
                "t",
            )
            .await
            .err()
            .unwrap();
        assert!(
            matches!(err, CompileError::Wasm(WasmError::Invalid { .. })),
            "{err}"
        );
    }
}
