//! Host-side front ends for pid0's `Shell` (`shell.capnp`): a terminal
//! with line editing ([`terminal`]) and an MCP server for agents
//! ([`mcp`]), also for a node elsewhere ([`remote`], `ww shell <multiaddr>`).
//!
//! Capability clients are single-threaded, while the line editor blocks a
//! thread of its own and the MCP server needs `Send` handlers, so both talk
//! to the shell through an [`Evaluator`]: a `Send` handle whose requests a
//! task on the node's `LocalSet` turns into `Shell` calls.
//!
//! When a front end is on, pid0's stdin is a pipe the host holds open and
//! never writes (a kernel reads no commands from it and serves its `Shell`
//! instead); its stdout goes to ww's stdout (the terminal) or stderr (MCP,
//! whose protocol owns stdout). A pid0 that exports no `Shell` gets the
//! terminal's input through that pipe instead.

#[cfg(feature = "mcp")]
pub mod mcp;
#[cfg(feature = "shell")]
pub mod remote;
#[cfg(feature = "shell")]
pub mod terminal;

use std::future::Future;

use tokio::io::{AsyncWriteExt, DuplexStream};
use tokio::sync::{mpsc, oneshot};
use ww_capnp::shell_capnp::shell;

use ww_core::cell::{Spec, Stdio};

/// The node's epoch as it advances ([`ww_core::epoch::Epochs::subscribe`]):
/// a front end that serves a list of capabilities follows it.
pub type EpochChanges = tokio::sync::watch::Receiver<ww_core::epoch::Epoch>;

/// Which front end drives pid0's shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frontend {
    /// Line editing and history on ww's terminal.
    Terminal,
    /// The Model Context Protocol on ww's stdio.
    Mcp,
}

/// What one evaluation gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The last value, printed readably.
    Value(String),
    /// What went wrong.
    Error(String),
    /// The source ends inside a form.
    Incomplete,
    /// `(exit n)`.
    Exit(i32),
}

/// One evaluation's output, outcome and working directory afterwards.
#[derive(Clone, Debug)]
pub struct Evaluated {
    /// What the evaluation printed.
    pub output: String,
    /// Its result (the last evaluated form's).
    pub outcome: Outcome,
    /// The shell's working directory after it.
    pub cwd: String,
    /// Each form evaluated, in order, when the source held several (see
    /// `Shell.eval` in shell.capnp); empty for one form.
    pub forms: Vec<Form>,
}

/// One top-level form of a multi-form evaluation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    /// The form's text.
    pub source: String,
    /// What it printed.
    pub output: String,
    /// Its result.
    pub outcome: Outcome,
}

enum Job {
    Eval(String, oneshot::Sender<Result<Evaluated, String>>),
    Graft(oneshot::Sender<Result<u64, String>>),
    Interrupt,
}

/// What waits its turn for the shell, in order.
enum Turn {
    Eval(String, oneshot::Sender<Result<Evaluated, String>>),
    Graft(oneshot::Sender<Result<u64, String>>),
}

/// A `Send` handle to pid0's `Shell`.
#[derive(Clone)]
pub struct Evaluator {
    jobs: mpsc::Sender<Job>,
}

/// How many requests may wait for the shell.
const QUEUE: usize = 16;

impl Evaluator {
    /// Evaluates `source`.
    ///
    /// # Errors
    ///
    /// When the call fails (pid0 exports no `Shell`, or is gone).
    pub async fn eval(&self, source: &str) -> Result<Evaluated, String> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Eval(source.to_string(), reply))
            .await
            .map_err(|_| "the shell is gone".to_string())?;
        answer.await.map_err(|_| "the shell is gone".to_string())?
    }

    /// [`Evaluator::eval`] from a thread outside the runtime.
    ///
    /// # Errors
    ///
    /// As [`Evaluator::eval`].
    pub fn eval_blocking(&self, source: &str) -> Result<Evaluated, String> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .blocking_send(Job::Eval(source.to_string(), reply))
            .map_err(|_| "the shell is gone".to_string())?;
        answer
            .blocking_recv()
            .map_err(|_| "the shell is gone".to_string())?
    }

    /// Has the shell graft its capabilities again (`Shell.graft`) after
    /// the evaluations sent before; returns the new epoch's seq.
    ///
    /// # Errors
    ///
    /// When the call fails (a kernel without `Shell.graft`, or gone).
    pub async fn graft(&self) -> Result<u64, String> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Graft(reply))
            .await
            .map_err(|_| "the shell is gone".to_string())?;
        answer.await.map_err(|_| "the shell is gone".to_string())?
    }

    /// Interrupts the evaluation in progress, if any.
    pub fn interrupt(&self) {
        let _ = self.jobs.try_send(Job::Interrupt);
    }
}

/// Serves `shell` to an [`Evaluator`]; the returned future runs the calls
/// and must be spawned on the node's `LocalSet`. Evaluations run one at a
/// time, in order; an interrupt is sent at once. Give it a Shell of the
/// front end's own ([`own_session`]) so its interrupts reach only its
/// evaluations.
pub fn evaluator(shell: shell::Client) -> (Evaluator, impl Future<Output = ()>) {
    let (jobs, mut queue) = mpsc::channel(QUEUE);
    let (evals, mut pending) = mpsc::unbounded_channel::<Turn>();
    let serve = async move {
        let interrupter = shell.clone();
        let run = async {
            while let Some(turn) = pending.recv().await {
                match turn {
                    Turn::Eval(source, reply) => {
                        let _ = reply.send(call(&shell, &source).await);
                    }
                    Turn::Graft(reply) => {
                        let _ = reply.send(graft(&shell).await);
                    }
                }
            }
        };
        let route = async {
            while let Some(job) = queue.recv().await {
                match job {
                    Job::Eval(source, reply) => {
                        let _ = evals.send(Turn::Eval(source, reply));
                    }
                    Job::Graft(reply) => {
                        let _ = evals.send(Turn::Graft(reply));
                    }
                    Job::Interrupt => {
                        let _ = interrupter.interrupt_request().send().promise.await;
                    }
                }
            }
            drop(evals);
        };
        tokio::join!(run, route);
    };
    (Evaluator { jobs }, serve)
}

/// A Shell of the caller's own over `shell`'s interpreter (`Shell.session`).
///
/// # Errors
///
/// When pid0's Shell has no `session` (an older kernel) or pid0 exports no
/// Shell.
pub async fn own_session(shell: &shell::Client) -> capnp::Result<shell::Client> {
    let reply = shell.session_request().send().promise.await?;
    reply.get()?.get_shell()
}

async fn call(shell: &shell::Client, source: &str) -> Result<Evaluated, String> {
    let mut request = shell.eval_request();
    request.get().set_source(source);
    let read = async {
        let response = request.send().promise.await?;
        let r = response.get()?;
        let forms = r
            .get_forms()?
            .iter()
            .map(|f| {
                Ok(Form {
                    source: f.get_source()?.to_string()?,
                    output: f.get_output()?.to_string()?,
                    outcome: outcome(f.get_outcome()?)?,
                })
            })
            .collect::<capnp::Result<_>>()?;
        Ok::<_, capnp::Error>(Evaluated {
            output: r.get_output()?.to_string()?,
            outcome: outcome(r.get_outcome()?)?,
            cwd: r.get_cwd()?.to_string()?,
            forms,
        })
    };
    read.await.map_err(|e| e.extra)
}

async fn graft(shell: &shell::Client) -> Result<u64, String> {
    let read = async {
        let response = shell.graft_request().send().promise.await?;
        Ok::<_, capnp::Error>(response.get()?.get_epoch())
    };
    read.await.map_err(|e| e.extra)
}

fn outcome(r: shell::outcome::Reader<'_>) -> capnp::Result<Outcome> {
    Ok(match r.which()? {
        shell::outcome::Value(v) => Outcome::Value(v?.to_string()?),
        shell::outcome::Error(e) => Outcome::Error(e?.to_string()?),
        shell::outcome::Incomplete(()) => Outcome::Incomplete,
        shell::outcome::Exit(code) => Outcome::Exit(code),
    })
}

/// Gives pid0 the stdio a front end needs (see the module docs); returns
/// the front end, which resolves to ww's exit status, and a future that
/// resolves once pid0's output has all been shown (its pipes reach their
/// end when it exits): what pid0 wrote last must not be lost when ww ends
/// with it.
pub fn attach(
    frontend: Frontend,
    exported: capnp::capability::Client,
    epochs: EpochChanges,
    spec: &mut Spec,
) -> (impl Future<Output = i32>, impl Future<Output = ()>) {
    let (stdin, cell_stdin) = tokio::io::duplex(64 * 1024);
    let (cell_stdout, stdout) = tokio::io::duplex(64 * 1024);
    let (cell_stderr, stderr) = tokio::io::duplex(64 * 1024);
    spec.stdio = Stdio::Piped {
        stdin: cell_stdin,
        stdout: cell_stdout,
        stderr: cell_stderr,
    };
    let to_stdout = frontend == Frontend::Terminal;
    let shown_out = tokio::task::spawn_local(async move {
        let mut stdout = stdout;
        if to_stdout {
            let _ = tokio::io::copy(&mut stdout, &mut tokio::io::stdout()).await;
        } else {
            let _ = tokio::io::copy(&mut stdout, &mut tokio::io::stderr()).await;
        }
    });
    let shown_err = tokio::task::spawn_local(async move {
        let mut stderr = stderr;
        let _ = tokio::io::copy(&mut stderr, &mut tokio::io::stderr()).await;
    });
    let drained = async move {
        let _ = shown_out.await;
        let _ = shown_err.await;
    };
    let shell = shell::Client { client: exported };
    let frontend = async move {
        // A Shell of the front end's own (its Ctrl-C interrupts only its
        // evaluations), asked for at once: the kernel answers before it
        // boots, so the answer also says that pid0 serves its vat. A pid0
        // that does not (a plain WASI program, or one blocked reading
        // stdin) would leave the front end waiting for ever, with the
        // terminal's input held back from it.
        let first = match tokio::time::timeout(VAT_ANSWER, own_session(&shell)).await {
            Err(_) => {
                let why = format!(
                    "pid0 did not serve its vat within {}s",
                    VAT_ANSWER.as_secs()
                );
                tracing::info!("{why}, so it has no Shell: the terminal's input goes to its stdin");
                Err(why)
            }
            Ok(own) => {
                // An older kernel without `Shell.session`, or no Shell at
                // all: the first evaluation tells.
                let shell = own.unwrap_or(shell);
                let (evaluator, serve) = evaluator(shell);
                tokio::task::spawn_local(serve);
                // The first call is the readiness check: it waits for the
                // kernel to boot, and fails at once when pid0 exports no
                // Shell.
                let first = evaluator.eval("nil").await;
                first.map(|first| (evaluator, first))
            }
        };
        match (frontend, first) {
            (Frontend::Terminal, Ok((evaluator, first))) => {
                run_terminal(evaluator, first.cwd).await
            }
            (Frontend::Mcp, Ok((evaluator, _))) => run_mcp(evaluator, Some(epochs)).await,
            (Frontend::Terminal, Err(_)) => forward_stdin(stdin).await,
            (Frontend::Mcp, Err(e)) => {
                tracing::error!("--mcp needs a pid0 that exports a Shell (std/kernel does): {e}");
                2
            }
        }
    };
    (frontend, drained)
}

/// The terminal front end, or (built without the `shell` feature, which
/// the CLI checks first) a refusal naming it.
async fn run_terminal(evaluator: Evaluator, cwd: String) -> i32 {
    #[cfg(feature = "shell")]
    return terminal::run(evaluator, cwd).await;
    #[cfg(not(feature = "shell"))]
    return refuse(
        evaluator,
        cwd,
        crate::features::Feature::Shell,
        "the shell on a terminal",
    );
}

/// The MCP front end, or (built without the `mcp` feature, which the CLI
/// checks first) a refusal naming it.
async fn run_mcp(evaluator: Evaluator, epochs: Option<EpochChanges>) -> i32 {
    #[cfg(feature = "mcp")]
    return mcp::run(evaluator, epochs).await;
    #[cfg(not(feature = "mcp"))]
    return {
        drop(epochs);
        refuse(
            evaluator,
            String::new(),
            crate::features::Feature::Mcp,
            "--mcp",
        )
    };
}

/// Says which feature a front end needs, and gives its status.
#[cfg(not(all(feature = "shell", feature = "mcp")))]
fn refuse(_: Evaluator, _: String, feature: crate::features::Feature, what: &'static str) -> i32 {
    let missing = crate::features::Missing { what, feature };
    tracing::error!("{missing}");
    crate::features::EXIT_MISSING
}

/// How long pid0 may take to answer the front end's first call
/// (`Shell.session`) before the front end takes it for a program without a
/// `Shell`. A kernel answers it before it boots, once instantiated
/// (compiling happened before it started), which takes milliseconds; the
/// bound leaves room for a loaded host.
const VAT_ANSWER: std::time::Duration = std::time::Duration::from_secs(3);

/// A pid0 without a `Shell` reads the terminal itself, through its pipe.
async fn forward_stdin(mut pipe: DuplexStream) -> i32 {
    let _ = tokio::io::copy(&mut tokio::io::stdin(), &mut pipe).await;
    let _ = pipe.shutdown().await;
    drop(pipe);
    // pid0's own exit ends the node.
    std::future::pending::<i32>().await
}
