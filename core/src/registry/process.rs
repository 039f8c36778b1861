//! Provider processes: `--provider ./program`, an executable instead of a
//! shared library.
//!
//! A provider process is started as a native cell is, by the node's one
//! [`Runner`](crate::native::Runner) (so the same jail, process group,
//! parent-death signal, descriptor set-up and statuses), with its socket
//! at fd 3, stdin closed, and stdout and stderr read into the node's log
//! ([`logs`](super::logs)). Then:
//!
//! 1. **Handshake** ([`ww_provider_sdk::handshake`]): the process writes a
//!    `Hello` within [`HANDSHAKE_TIMEOUT`]; a protocol the node does not
//!    speak is refused (a `Welcome` saying why, then the process is
//!    killed) with an error naming both numbers, status 2. Its needs are
//!    checked against the operator's grants ([`grants`](super::grants)).
//! 2. **Start**: the node runs its half of the two-party vat on the
//!    socket and calls `Plugin.start`, exactly as for a library
//!    ([`start_over_stream`](ww_provider_sdk::host::start_over_stream)).
//!    Every export is wrapped with [`Link`], so its calls fail naming the
//!    provider once it is down.
//! 3. **Supervision** ([`restart`](super::restart)): when the process
//!    ends, the node logs how, and restarts it with back-off.
//!
//! The process started at load (to read its manifest) is the one started,
//! unless its grants call for another jail: a process's jail cannot be
//! widened, so it is then started again with its grants.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::AsyncRead;
use tokio::sync::{oneshot, watch};
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
use ww_provider_sdk::handshake::{self, HandshakeError, Hello};
use ww_provider_sdk::proxy;
use ww_provider_sdk::serve::{LOG_ENV, PROTOCOL_ENV};
use ww_provider_sdk::Export;

use super::grants::{self, Grant, Granted, Ungranted};
use super::life::{Ending, Life};
use super::link::Link;
use super::logs;
use super::restart::Restart;
use crate::cpu::Scheduler;
use crate::limits::Limits;
use crate::native::{self, Launch, NativeError, Runner, Stdio};

/// How long a provider process may take to say `Hello`.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a provider process could not be loaded or started.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// It could not be started (no jail, not executable, ...).
    #[error("provider {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: NativeError,
    },
    /// It speaks another provider protocol.
    #[error(
        "provider {program} speaks ww provider protocol {theirs}, and this ww speaks protocol \
         {ours}; use a build of the provider made against a ww-provider-sdk (or provider.capnp) \
         of protocol {ours}, or a ww that speaks protocol {theirs}"
    )]
    Protocol {
        /// The program.
        program: String,
        /// This node's protocol.
        ours: u32,
        /// The provider's.
        theirs: u32,
    },
    /// Its handshake failed.
    #[error(
        "provider {program}: {source}; is it a ww provider? (a Rust one calls \
         ww_provider_sdk::serve; any other speaks provider.capnp's Hello on fd 3)"
    )]
    Handshake {
        /// The program.
        program: String,
        /// Why.
        source: HandshakeError,
    },
    /// It ended before its handshake.
    #[error(
        "provider {program} {ending} before its handshake; its log lines above (target \
         ww::provider) may say why"
    )]
    EndedEarly {
        /// The program.
        program: String,
        /// How it ended.
        ending: Ending,
    },
    /// It said nothing in time.
    #[error(
        "provider {program} sent no handshake within {}s; a provider writes its Hello on fd 3 \
         as soon as it starts",
        HANDSHAKE_TIMEOUT.as_secs()
    )]
    Timeout {
        /// The program.
        program: String,
    },
    /// It needs what the operator did not grant.
    #[error(transparent)]
    Ungranted(#[from] Ungranted),
    /// A restarted process is not the provider that was started.
    #[error(
        "provider {program} restarted as `{now}`, not as `{was}` with the same exports; it is \
         left down"
    )]
    Changed {
        /// The program.
        program: String,
        /// Its name and exports before.
        was: String,
        /// And now.
        now: String,
    },
    /// Something the node needs for it failed.
    #[error("cannot run provider {program}: cannot {what}: {source}")]
    Io {
        /// The program.
        program: String,
        /// What the node was doing.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
}

impl ProcessError {
    /// The exit status `ww` ends with: 2 for what the operator must change
    /// (a protocol mismatch, an ungranted need), 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            ProcessError::Protocol { .. } | ProcessError::Ungranted(_) => 2,
            ProcessError::Spawn {
                source: NativeError::NoJail { .. },
                ..
            } => 2,
            _ => 1,
        }
    }
}

/// What the node lends its provider processes: the runner that starts
/// them, the operator's grants, and the restart policy.
pub struct ProcessHost {
    runner: Rc<Runner>,
    /// What every provider process may read from its start, before its
    /// handshake names it (`ww run --ro PATH`: an interpreter's prefix,
    /// the libraries a script imports).
    read_only: Vec<PathBuf>,
    grants: Vec<Grant>,
    restart: Restart,
    cpu: Scheduler,
}

impl ProcessHost {
    /// Provider processes started by `runner` (the node's native runner,
    /// so they are jailed as its native cells are), each allowed to read
    /// `read_only` besides its own directory, with the operator's
    /// `grants` and `restart` policy.
    pub fn new(
        runner: Rc<Runner>,
        read_only: Vec<PathBuf>,
        grants: Vec<Grant>,
        restart: Restart,
    ) -> Rc<ProcessHost> {
        Rc::new(ProcessHost {
            runner,
            read_only,
            grants,
            restart,
            cpu: Scheduler::new(),
        })
    }

    /// The restart policy.
    pub fn restart(&self) -> Restart {
        self.restart
    }
}

/// A provider process, loaded: its handshake read, its needs granted.
pub struct ProcessProvider {
    /// The program, as given.
    pub path: PathBuf,
    /// Its handshake.
    pub hello: Hello,
    granted: Granted,
    host: Rc<ProcessHost>,
    /// The process started at load, kept for the start when its jail fits.
    probe: RefCell<Option<Connection>>,
}

impl std::fmt::Debug for ProcessProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessProvider")
            .field("path", &self.path)
            .field("hello", &self.hello)
            .finish_non_exhaustive()
    }
}

type Reader = Compat<Watched<tokio::net::unix::OwnedReadHalf>>;
type Writer = Compat<tokio::net::unix::OwnedWriteHalf>;

/// A running provider process whose handshake is done.
struct Connection {
    /// Its socket, until the vat takes it.
    socket: Option<(Reader, Writer)>,
    hello: Hello,
    life: Rc<Life>,
    /// Aborting it kills the process's group.
    task: tokio::task::AbortHandle,
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Dropped before its vat took the socket (a probe that is not
        // reused): the process has nothing left to do.
        if self.socket.is_some() {
            self.task.abort();
        }
    }
}

impl ProcessProvider {
    /// Starts the program at `path`, reads its handshake and checks its
    /// needs against the operator's grants. Must run inside a `LocalSet`.
    ///
    /// # Errors
    ///
    /// See [`ProcessError`].
    pub async fn load(
        path: &Path,
        host: &Rc<ProcessHost>,
    ) -> Result<ProcessProvider, ProcessError> {
        let program = path.display().to_string();
        let probe = launch(host, path, &program, &Granted::default()).await?;
        let hello = probe.hello.clone();
        let granted = grants::check(&hello.manifest.name, &program, &hello.needs, &host.grants)?;
        let probe = if granted == Granted::default() {
            Some(probe)
        } else {
            None
        };
        Ok(ProcessProvider {
            path: path.to_path_buf(),
            hello,
            granted,
            host: host.clone(),
            probe: RefCell::new(probe),
        })
    }

    /// The provider's name.
    pub fn name(&self) -> &str {
        &self.hello.manifest.name
    }

    /// The restart policy it runs under.
    pub fn restart(&self) -> Restart {
        self.host.restart
    }

    /// Starts the provider (the process started at load, or a new one) and
    /// returns its exports, each wrapped with [`Link`], and its run.
    ///
    /// # Errors
    ///
    /// When the process cannot be started again, or its `start` fails.
    pub async fn start(
        &self,
        config: BTreeMap<String, String>,
        requires: Vec<Export>,
    ) -> Result<(Vec<Export>, Rc<Life>), StartError> {
        let probe = self.probe.borrow_mut().take();
        let mut connection = match probe {
            Some(connection) if connection.life.ending().is_none() => connection,
            _ => {
                let program = self.path.display().to_string();
                let connection = launch(&self.host, &self.path, self.name(), &self.granted).await?;
                let (was, now) = (&self.hello.manifest, &connection.hello.manifest);
                if was.name != now.name || was.exports != now.exports {
                    let describe = |m: &ww_provider_sdk::Manifest| {
                        let names: Vec<&str> = m.exports.iter().map(|x| x.name.as_str()).collect();
                        format!("{} exporting [{}]", m.name, names.join(", "))
                    };
                    return Err(ProcessError::Changed {
                        program,
                        was: describe(was),
                        now: describe(now),
                    }
                    .into());
                }
                connection
            }
        };
        let life = connection.life.clone();
        let name = self.name().to_string();
        // Taken: from now on the vat holds the process's socket.
        let (reader, writer) = connection
            .socket
            .take()
            .expect("a connection's socket is taken once, here");
        tokio::task::spawn_local(end_when_hung_up(life.clone()));
        let started =
            ww_provider_sdk::host::start_over_stream(&name, reader, writer, config, requires).await;
        let exports = match started {
            Ok(exports) => exports,
            Err(e) => {
                // A process whose start failed serves nothing: end it, or
                // each failed restart would leave one behind.
                connection.task.abort();
                return Err(e.into());
            }
        };
        let exports = exports
            .into_iter()
            .map(|e| {
                let cap = proxy::wrap(e.cap.clone(), Link::new(life.clone()))?;
                Ok(e.with_cap(cap))
            })
            .collect::<Result<Vec<_>, ww_provider_sdk::capnp::Error>>()
            .map_err(ww_provider_sdk::error::Error::from)?;
        Ok((exports, life))
    }
}

/// A provider process whose connection closed (it closed fd 3, or sent
/// what broke the vat) is of no use: if it has not ended within
/// [`GRACE`](super::link::GRACE), the node kills its process group, so
/// that its supervisor restarts it instead of leaving its capabilities
/// failing for good.
async fn end_when_hung_up(life: Rc<Life>) {
    let mut closed = life.closed.clone();
    if closed.wait_for(|c| *c).await.is_err() {
        return;
    }
    if tokio::time::timeout(super::link::GRACE, life.ended())
        .await
        .is_ok()
    {
        return;
    }
    // Checked and killed in one step on the node's thread, where the
    // process is reaped: until it is, its pid names its group.
    if life.ending().is_none() {
        tracing::warn!(
            target: "ww::provider",
            provider = %life.provider,
            "provider `{}` (pid {}) closed its connection but runs on; the node kills it",
            life.provider,
            life.pid
        );
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(-life.pid, libc::SIGKILL) };
    }
}

/// Why a started provider process could not serve.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The process could not be (re)started.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// Its `Plugin.start` failed.
    #[error(transparent)]
    Provider(#[from] ww_provider_sdk::error::Error),
}

/// Starts the program at `path` as a provider process named `label` (its
/// path before its name is known), jailed with `granted`, and reads its
/// handshake.
async fn launch(
    host: &Rc<ProcessHost>,
    path: &Path,
    label: &str,
    granted: &Granted,
) -> Result<Connection, ProcessError> {
    let program = path.display().to_string();
    let io = |what: &'static str| {
        let program = program.clone();
        move |source| ProcessError::Io {
            program,
            what,
            source,
        }
    };
    let (node_end, cell_end) = native::rpc_pair().map_err(io("create its socket"))?;
    let stdin = std::fs::File::open("/dev/null").map_err(io("open /dev/null for its stdin"))?;
    let (stdout_r, stdout_w) = std::io::pipe().map_err(io("create its stdout pipe"))?;
    let (stderr_r, stderr_w) = std::io::pipe().map_err(io("create its stderr pipe"))?;
    let mut read_only = granted.read.clone();
    read_only.extend(host.read_only.iter().cloned());
    // A script's own modules and data sit beside it.
    if let Some(dir) = std::fs::canonicalize(path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        read_only.push(dir);
    }
    let launch = Launch {
        name: format!("provider {label}"),
        program: path.to_path_buf(),
        argv: vec![program.clone()],
        env: vec![
            (PROTOCOL_ENV.to_string(), handshake_versions()),
            (LOG_ENV.to_string(), log_level()),
        ],
        root: None,
        read_only,
        read_write: granted.write.clone(),
        network: granted.network,
        fds: Vec::new(),
        stdio: Stdio::Piped {
            stdin: stdin.into(),
            stdout: stdout_w.into(),
            stderr: stderr_w.into(),
        },
        limits: Limits::default(),
    };
    let (started_tx, started_rx) = oneshot::channel();
    let (ended_tx, ended_rx) = watch::channel(None);
    let (closed_tx, closed_rx) = watch::channel(false);
    let runner = host.runner.clone();
    let share = host.cpu.top(&format!("provider {label}"));
    // Why it could not start, when it could not.
    let refused: Rc<RefCell<Option<NativeError>>> = Rc::default();
    let refusal = refused.clone();
    let task = tokio::task::spawn_local(async move {
        let ending = match runner
            .run_to_exit(launch, cell_end, &share, Some(started_tx))
            .await
        {
            Ok(exit) => Ending::of(&exit),
            Err(e) => {
                let ending = Ending::Failed(e.to_string());
                refusal.replace(Some(e));
                ending
            }
        };
        let _ = ended_tx.send(Some(ending));
    });
    let task = task.abort_handle();
    // Its log lines name it by its path until its handshake names it.
    let log_name = Rc::new(RefCell::new(label.to_string()));
    for pipe in [stdout_r, stderr_r] {
        let pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(pipe.into())
            .map_err(io("read its output"))?;
        tokio::task::spawn_local(logs::forward(log_name.clone(), pipe));
    }
    let pid = match started_rx.await {
        Ok(pid) => pid,
        Err(_) => {
            // It never ran: its task says why.
            let ending = super::life::wait(ended_rx.clone()).await;
            return Err(match refused.take() {
                Some(source) => ProcessError::Spawn { program, source },
                None => ProcessError::EndedEarly { program, ending },
            });
        }
    };
    let since = Instant::now();
    let (reader, writer) = node_end.into_split();
    let mut reader = Watched {
        inner: reader,
        closed: closed_tx,
    }
    .compat();
    let mut writer = writer.compat_write();
    let guard = TaskGuard(Some(task.clone()));
    let hello = tokio::select! {
        hello = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake::read_hello(&mut reader)) => hello,
        ending = super::life::wait(ended_rx.clone()) => {
            return Err(ProcessError::EndedEarly { program, ending });
        }
    };
    let hello = match hello {
        Err(_) => return Err(ProcessError::Timeout { program }),
        Ok(Err(HandshakeError::Protocol { ours, theirs })) => {
            let reason = format!("this node speaks provider protocol {ours}, not {theirs}");
            let _ = handshake::write_welcome(&mut writer, Err(&reason)).await;
            return Err(ProcessError::Protocol {
                program,
                ours,
                theirs,
            });
        }
        Ok(Err(HandshakeError::Closed(_))) => {
            let ending = tokio::time::timeout(super::link::GRACE, super::life::wait(ended_rx))
                .await
                .unwrap_or_else(|_| Ending::Failed("it closed fd 3".into()));
            return Err(ProcessError::EndedEarly { program, ending });
        }
        Ok(Err(source)) => return Err(ProcessError::Handshake { program, source }),
        Ok(Ok(hello)) => hello,
    };
    handshake::write_welcome(&mut writer, Ok(()))
        .await
        .map_err(|source| ProcessError::Handshake {
            program: program.clone(),
            source,
        })?;
    guard.disarm();
    log_name.replace(hello.manifest.name.clone());
    let life = Rc::new(Life {
        provider: hello.manifest.name.clone(),
        pid,
        since,
        closed: closed_rx,
        ended: ended_rx,
        restarts: host.restart.restarts(),
    });
    tracing::debug!(
        provider = %hello.manifest.name,
        pid,
        implementation = %hello.implementation,
        "provider process said hello"
    );
    Ok(Connection {
        socket: Some((reader, writer)),
        hello,
        life,
        task,
    })
}

/// Kills the process (aborts its task) unless disarmed: every early
/// return of [`launch`] after the spawn.
struct TaskGuard(Option<tokio::task::AbortHandle>);

impl TaskGuard {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// The protocols this node speaks, as `WW_PROVIDER_PROTOCOL` says them.
fn handshake_versions() -> String {
    ww_provider_sdk::fingerprint::PROTOCOL_VERSION.to_string()
}

/// The most verbose level the node records, as `WW_PROVIDER_LOG` says it.
fn log_level() -> String {
    use tracing::level_filters::LevelFilter;
    match LevelFilter::current().into_level() {
        None => "off".into(),
        Some(level) => level.to_string().to_ascii_lowercase(),
    }
}

/// A socket reader that records when it reads end-of-stream or fails, or
/// is dropped (the vat ended): the connection is closed from then on.
struct Watched<R> {
    inner: R,
    closed: watch::Sender<bool>,
}

impl<R> Drop for Watched<R> {
    fn drop(&mut self) {
        self.closed.send_replace(true);
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Watched<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        match &polled {
            std::task::Poll::Ready(Ok(())) if buf.filled().len() == before => {
                self.closed.send_replace(true);
            }
            std::task::Poll::Ready(Err(_)) => {
                self.closed.send_replace(true);
            }
            _ => {}
        }
        polled
    }
}
