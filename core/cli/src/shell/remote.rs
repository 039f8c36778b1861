//! `ww shell <multiaddr>`: the shell of a node elsewhere.
//!
//! This side runs a libp2p host of its own with an ephemeral peer key (the
//! login, not the connection, says who you are, so one key can be both a
//! node's identity and the key its operator logs in with), dials the node's
//! terminal (see [`ww_core::terminal::serve`]), answers its challenge with
//! the identity provider's signer for `--identity`, grafts the session and
//! drives its `shell` with the front ends a local node has: the terminal
//! (line editing, history, Ctrl-C interrupts the remote evaluation), MCP on
//! stdio (`--mcp`, following the node's epoch by asking for it), or piped
//! stdin evaluated form by form.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use tokio::io::AsyncBufReadExt;
use ww_capnp::identity_capnp::identity;
use ww_capnp::membrane_capnp::{membrane, terminal};
use ww_capnp::shell_capnp::shell;
use ww_capnp::system_capnp::host;
use ww_capnp::StaleEpoch;

use super::{EpochChanges, Evaluator};
use crate::node::IDENTITY_KEY;
use ww_core::epoch::Epoch;
use ww_core::key::{self, KeyError};
use ww_core::registry::{Plan, RegistryError};
use ww_core::terminal::serve::{PROTOCOL, SHELL_EXPORT};
use ww_core::terminal::DOMAIN;

/// What `ww shell` was asked to do.
#[derive(Clone, Debug)]
pub struct RemoteOptions {
    /// The node's multiaddr, ending in `/p2p/<peer id>`.
    pub addr: String,
    /// The key to log in with (as `ww keygen` writes it).
    pub identity: PathBuf,
    /// How long each step of reaching the node and logging in may take.
    pub timeout: Duration,
    /// Serve the remote shell as an MCP server on stdio instead.
    pub mcp: bool,
}

/// Why the remote shell could not be opened or went away.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The `--identity` key could not be read.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// This ww lacks a provider `ww shell` runs on its own side.
    #[error(
        "`ww shell` needs the built-in {0} provider, but this ww was built without it; use a ww \
         built with its default features"
    )]
    Missing(&'static str),
    /// This side's host or identity provider did not start.
    #[error("cannot start this side's {0}")]
    Start(#[from] RegistryError),
    /// The node cannot be reached (the text names the address).
    #[error("{0}")]
    Unreachable(String),
    /// The peer answers, but serves no terminal.
    #[error("{addr} serves no ww terminal ({reason}); is it a ww node started with `ww run`?")]
    NoTerminal {
        /// The node's address.
        addr: String,
        /// What the dial reported.
        reason: String,
    },
    /// The node refused the login.
    #[error("{addr}: {reason}")]
    Refused {
        /// The node's address.
        addr: String,
        /// The node's reason.
        reason: String,
    },
    /// Logged in, but there is no shell behind the session.
    #[error("logged in to {addr}, but its pid0 exports no Shell ({reason}); run std/kernel there")]
    NoShell {
        /// The node's address.
        addr: String,
        /// What the session reported.
        reason: String,
    },
    /// A step did not finish in time.
    #[error(
        "{what} {addr} took longer than {}s; check the address and that the node is up \
         (--timeout waits longer)", timeout.as_secs_f32()
    )]
    Timeout {
        /// The step.
        what: &'static str,
        /// The node's address.
        addr: String,
        /// The bound.
        timeout: Duration,
    },
    /// Logged in, but pid0 did not answer the shell's first call.
    #[error(
        "logged in to {addr}, but its pid0 did not answer within {}s: it may export no Shell \
         (run std/kernel there), or still be starting (--timeout waits longer)",
        timeout.as_secs_f32()
    )]
    NoAnswer {
        /// The node's address.
        addr: String,
        /// The bound.
        timeout: Duration,
    },
    /// The connection failed after login.
    #[error("the session with {addr} ended: {reason}")]
    Session {
        /// The node's address.
        addr: String,
        /// Why.
        reason: String,
    },
}

/// Opens the remote shell and runs it until Ctrl-D, `(exit n)` or the end
/// of piped input; returns the exit status. Must run inside a tokio
/// `LocalSet` on a current-thread runtime.
///
/// # Errors
///
/// An unreadable key, an unreachable node, a refused login, a node without
/// a shell, or a connection lost mid-session.
pub async fn run(options: RemoteOptions) -> Result<i32, RemoteError> {
    let key = key::read(&options.identity)?;
    let addr = options.addr.trim().to_string();
    let host = start(
        "host",
        [
            (IDENTITY_KEY, key::to_pem(&key::generate())),
            ("listen", "/ip4/127.0.0.1/tcp/0".to_string()),
            (
                "dial_timeout",
                options.timeout.as_secs_f64().max(0.001).to_string(),
            ),
        ],
    )
    .await?;
    let identity = start("identity", [(IDENTITY_KEY, key::to_pem(&key))]).await?;
    let host = host::Client { client: host };
    let identity = identity::Client { client: identity };
    let (shell, session) = open(&host, &identity, &addr, options.timeout).await?;

    let (evaluator, serve) = super::evaluator(shell);
    tokio::task::spawn_local(serve);
    // The first call waits for the node's kernel to be up; a pid0 that
    // never serves its side of the vat never answers, hence the bound.
    let first = tokio::time::timeout(options.timeout, evaluator.eval("nil"))
        .await
        .map_err(|_| RemoteError::NoAnswer {
            addr: addr.clone(),
            timeout: options.timeout,
        })?
        .map_err(|reason| RemoteError::NoShell {
            addr: addr.clone(),
            reason,
        })?;
    use std::io::IsTerminal;
    if options.mcp {
        let epochs = follow_epoch(&session).await;
        Ok(super::run_mcp(evaluator, epochs).await)
    } else if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        Ok(super::terminal::run(evaluator, first.cwd).await)
    } else {
        piped(&evaluator, &addr).await
    }
}

/// Starts the built-in provider `name` alone with `settings`; returns its
/// export of the same name.
async fn start<const N: usize>(
    name: &'static str,
    settings: [(&str, String); N],
) -> Result<capnp::capability::Client, RemoteError> {
    let provider = crate::builtins::providers()
        .into_iter()
        .find(|p| p.manifest().name == name)
        .ok_or(RemoteError::Missing(name))?;
    let settings: BTreeMap<String, String> = settings
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let started = Plan::new(vec![provider], Vec::new())?
        .start(&settings)
        .await?;
    started
        .guest_exports()
        .into_iter()
        .find(|x| x.name == name)
        .map(|x| x.cap)
        .ok_or(RemoteError::Missing(name))
}

/// Connects, dials the terminal, logs in and grafts the session's shell;
/// returns it and the session.
async fn open(
    host: &host::Client,
    identity: &identity::Client,
    addr: &str,
    timeout: Duration,
) -> Result<(shell::Client, membrane::Client), RemoteError> {
    let session = login(host, identity, addr, timeout).await?;
    let no_shell = |reason: String| RemoteError::NoShell {
        addr: addr.to_string(),
        reason,
    };
    let shell = bounded("grafting the session of", addr, timeout, graft(&session))
        .await?
        .map_err(|e| no_shell(reason(e)))?
        .ok_or_else(|| no_shell(format!("the session has no `{SHELL_EXPORT}`")))?;
    // A pid0 that never serves its vat never answers this first call.
    let shell = tokio::time::timeout(timeout, own(shell))
        .await
        .map_err(|_| RemoteError::NoAnswer {
            addr: addr.to_string(),
            timeout,
        })?;
    let shell = capnp_rpc::new_client(SessionShell {
        session: session.clone(),
        shell: RefCell::new(shell),
        cwd: RefCell::new("/".to_string()),
    });
    Ok((shell, session))
}

/// How often `ww shell --mcp` asks the node for its epoch: the session
/// has no way to be told, and an MCP client should hear of an advance
/// before its next call fails with `staleEpoch`.
const EPOCH_POLL: Duration = Duration::from_secs(1);

/// The node's epoch as seen through `session` (`Membrane.epoch`, asked
/// every [`EPOCH_POLL`]) for the MCP front end to follow; `None` when the
/// session does not answer (the front end then relies on `staleEpoch`).
/// Asking stops with the front end or the session.
async fn follow_epoch(session: &membrane::Client) -> Option<EpochChanges> {
    async fn ask(session: &membrane::Client) -> capnp::Result<Epoch> {
        let response = session.epoch_request().send().promise.await?;
        let epoch = response.get()?.get_epoch()?;
        Ok(Epoch {
            seq: epoch.get_seq(),
            head: epoch.get_head()?.to_vec(),
        })
    }
    let first = ask(session).await.ok()?;
    let (changes, epochs) = tokio::sync::watch::channel(first);
    let session = session.clone();
    tokio::task::spawn_local(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(EPOCH_POLL) => {}
                _ = changes.closed() => return,
            }
            let Ok(now) = ask(&session).await else {
                return;
            };
            changes.send_if_modified(|epoch| {
                let moved = now.seq != epoch.seq;
                *epoch = now;
                moved
            });
        }
    });
    Some(epochs)
}

/// Connects, dials the terminal and logs in.
async fn login(
    host: &host::Client,
    identity: &identity::Client,
    addr: &str,
    timeout: Duration,
) -> Result<membrane::Client, RemoteError> {
    let mut request = host.connect_request();
    request.get().set_addr(addr);
    bounded("connecting to", addr, timeout, request.send().promise)
        .await?
        .map_err(|e| RemoteError::Unreachable(reason(e)))?;

    let peer = addr
        .rsplit("/p2p/")
        .next()
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    let no_terminal = |e: capnp::Error| RemoteError::NoTerminal {
        addr: addr.to_string(),
        reason: reason(e),
    };
    let network = host
        .network_request()
        .send()
        .promise
        .await
        .map_err(no_terminal)?;
    let vat_client = network.get().map_err(no_terminal)?.get_vat_client();
    let vat_client = vat_client.map_err(no_terminal)?;
    let mut request = vat_client.dial_request();
    request.get().set_peer(peer);
    request.get().set_protocol(PROTOCOL);
    let dialed = bounded(
        "opening the terminal of",
        addr,
        timeout,
        request.send().promise,
    )
    .await?
    .map_err(no_terminal)?;
    let terminal: terminal::Client<membrane::Owned> = dialed
        .get()
        .and_then(|r| r.get_cap().get_as_capability())
        .map_err(no_terminal)?;

    let mut request = identity.signer_request();
    request.get().set_domain(DOMAIN);
    let signer = request
        .send()
        .promise
        .await
        .and_then(|r| r.get()?.get_signer())
        .map_err(|e| RemoteError::Refused {
            addr: addr.to_string(),
            reason: format!("cannot sign the login here: {}", reason(e)),
        })?;
    let mut request = terminal.login_request();
    request.get().set_signer(signer);
    let refused = |e: capnp::Error| RemoteError::Refused {
        addr: addr.to_string(),
        reason: reason(e),
    };
    bounded("logging in to", addr, timeout, request.send().promise)
        .await?
        .and_then(|r| r.get()?.get_session())
        .map_err(refused)
}

/// The session's `shell` export, from a fresh graft.
async fn graft(session: &membrane::Client) -> Result<Option<shell::Client>, capnp::Error> {
    let grafted = session.graft_request().send().promise.await?;
    for export in grafted.get()?.get_caps()?.iter() {
        if export.get_name()?.to_str() == Ok(SHELL_EXPORT) {
            return Ok(Some(export.get_cap().get_as_capability()?));
        }
    }
    Ok(None)
}

/// A Shell of this session's own over `shell`'s interpreter, so its
/// interrupts reach only its evaluations; `shell` itself from a kernel
/// without `Shell.session`.
async fn own(shell: shell::Client) -> shell::Client {
    super::own_session(&shell).await.unwrap_or(shell)
}

/// The remote shell as the front ends see it: calls go to the `shell` of
/// the current graft. When the node's epoch ends, that capability fails
/// with `staleEpoch`; the session grafts again and the failed command is
/// reported, not repeated (it may have run in part before the epoch
/// ended), so a person sees one failed command and goes on.
struct SessionShell {
    session: membrane::Client,
    /// This session's own Shell, from the current graft.
    shell: RefCell<shell::Client>,
    /// The working directory after the last evaluation, for a failure's
    /// prompt.
    cwd: RefCell<String>,
}

impl shell::Server for SessionShell {
    async fn eval(
        self: Rc<Self>,
        params: shell::EvalParams,
        mut results: shell::EvalResults,
    ) -> Result<(), capnp::Error> {
        let shell = self.shell.borrow().clone();
        let mut request = shell.eval_request();
        request.get().set_source(params.get()?.get_source()?);
        match request.send().promise.await {
            Ok(response) => {
                let response = response.get()?;
                let cwd = response.get_cwd()?.to_str()?;
                *self.cwd.borrow_mut() = cwd.to_string();
                let mut r = results.get();
                r.set_output(response.get_output()?);
                r.set_cwd(cwd);
                r.set_outcome(response.get_outcome()?)?;
                r.set_forms(response.get_forms()?)?;
                Ok(())
            }
            Err(e) if StaleEpoch::from_error(&e).is_some() => {
                let why = match graft(&self.session).await {
                    Ok(Some(fresh)) => {
                        *self.shell.borrow_mut() = own(fresh).await;
                        "grafted the session again; run the command again".to_string()
                    }
                    Ok(None) => format!("the new graft has no `{SHELL_EXPORT}`"),
                    Err(again) => format!("grafting again failed too: {}", reason(again)),
                };
                let mut r = results.get();
                r.set_output("");
                r.set_cwd(self.cwd.borrow().as_str());
                r.init_outcome()
                    .set_error(format!("{} ({why})", reason(e)).as_str());
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Grafts the session again (its `shell` is of the ended epoch too),
    /// then has the node's shell graft its own capabilities.
    async fn graft(
        self: Rc<Self>,
        _: shell::GraftParams,
        mut results: shell::GraftResults,
    ) -> Result<(), capnp::Error> {
        if let Some(fresh) = graft(&self.session).await? {
            *self.shell.borrow_mut() = own(fresh).await;
        }
        let shell = self.shell.borrow().clone();
        let response = shell.graft_request().send().promise.await?;
        results.get().set_epoch(response.get()?.get_epoch());
        Ok(())
    }

    async fn interrupt(
        self: Rc<Self>,
        _: shell::InterruptParams,
        _: shell::InterruptResults,
    ) -> Result<(), capnp::Error> {
        let shell = self.shell.borrow().clone();
        shell.interrupt_request().send().promise.await?;
        Ok(())
    }
}

/// A failure's text without capnp-rpc's "remote exception: " prefix: the
/// message already says where it comes from.
fn reason(e: capnp::Error) -> String {
    match e.extra.strip_prefix("remote exception: ") {
        Some(rest) => rest.to_string(),
        None => e.extra,
    }
}

async fn bounded<T>(
    what: &'static str,
    addr: &str,
    timeout: Duration,
    step: impl Future<Output = T>,
) -> Result<T, RemoteError> {
    tokio::time::timeout(timeout, step)
        .await
        .map_err(|_| RemoteError::Timeout {
            what,
            addr: addr.to_string(),
            timeout,
        })
}

/// Evaluates piped stdin form by form (a form may span lines, a line may
/// hold several), printing as the kernel's own shell does, until
/// `(exit n)` or the end of input.
async fn piped(evaluator: &Evaluator, addr: &str) -> Result<i32, RemoteError> {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut pending = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        pending.push_str(&line);
        pending.push('\n');
        let Some(forms) = super::terminal::forms(&pending) else {
            continue;
        };
        pending.clear();
        for form in forms {
            let evaluated = evaluator
                .eval(&form)
                .await
                .map_err(|reason| RemoteError::Session {
                    addr: addr.to_string(),
                    reason,
                })?;
            if let Some(code) = super::terminal::show(&evaluated) {
                return Ok(code);
            }
        }
    }
    if !pending.trim().is_empty() {
        eprintln!("error: the input ended inside a form: {}", pending.trim());
    }
    Ok(0)
}
