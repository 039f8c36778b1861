//! A provider as a process: the same [`Provider`] a `cdylib` exports,
//! served over the Unix socket a node puts at fd 3.
//!
//! Why a process: a provider in its own process cannot take the node down
//! (an `abort`, a segfault, a leak end only that process, which the node
//! restarts), it can be jailed like a native cell, and it need not be
//! built with the node's compiler and SDK: a process speaks Cap'n Proto
//! and the provider protocol, nothing else. One crate can build both:
//!
//! ```no_run
//! # use ww_provider_sdk::{Context, Error, Export, Manifest, Provider};
//! # use ww_provider_sdk::LocalBoxFuture;
//! # struct Kv;
//! # impl Provider for Kv {
//! #     fn manifest(&self) -> Manifest { unimplemented!() }
//! #     fn start(&self, _: Context) -> LocalBoxFuture<'static, Result<Vec<Export>, Error>> { unimplemented!() }
//! # }
//! // src/main.rs of the provider crate (its lib.rs calls `export!` for the `.so`):
//! fn main() -> std::process::ExitCode {
//!     ww_provider_sdk::serve(Kv)
//! }
//! ```
//!
//! What [`serve`] does: it writes the handshake's `Hello` (protocol,
//! manifest, needs) on fd 3, reads the node's `Welcome`, then runs a
//! two-party vat on the same socket whose bootstrap is the provider's
//! `Plugin` (the very server a library runs over its byte stream), on a
//! current-thread runtime and a `LocalSet`. Its `tracing` events go to
//! stderr as `LEVEL target: message` lines, which the node re-emits as its
//! own events under the provider's name. It returns when the node closes
//! the socket.

use std::os::fd::{FromRawFd, OwnedFd};
use std::process::ExitCode;
use std::rc::Rc;

use capnp_rpc::{rpc_twoparty_capnp::Side, twoparty, RpcSystem};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
use ww_capnp::provider_capnp::plugin;

use crate::fingerprint::PROTOCOL_VERSION;
use crate::handshake::{self, Hello};
use crate::plugin::PluginServer;
use crate::provider::Provider;

/// The descriptor a node puts the provider's socket at.
pub const SOCKET_FD: i32 = 3;

/// Set by the node in a provider process's environment: the provider
/// protocols it speaks (comma-separated). Its absence means the program
/// was not started by a node.
pub const PROTOCOL_ENV: &str = "WW_PROVIDER_PROTOCOL";

/// Set by the node: the most verbose level it records (`error` … `trace`,
/// or `off`), so the provider does not format events nobody will see.
pub const LOG_ENV: &str = "WW_PROVIDER_LOG";

/// Exit status when the program was not started by a node, or the node
/// refused it (bad usage, as for `ww` itself).
const USAGE: u8 = 2;

/// Serves `provider` on fd 3 until the node closes it; call it from
/// `main`. Returns the process's exit status: 0 when the node closed the
/// connection, 1 when the vat failed, 2 when the program was not started
/// by a node or the node refused it.
pub fn serve<P: Provider>(provider: P) -> ExitCode {
    let manifest = provider.manifest();
    let program = std::env::args().next().unwrap_or_else(|| "PROGRAM".into());
    if std::env::var_os(PROTOCOL_ENV).is_none() {
        eprintln!(
            "{} {} is a ww provider (provider protocol {PROTOCOL_VERSION}): a node starts it and \
             speaks to it on fd 3. Run it with `ww run --provider {program} IMAGE`, or see what it \
             declares with `ww providers {program}`.",
            manifest.name, manifest.version
        );
        return ExitCode::from(USAGE);
    }
    if !is_socket(SOCKET_FD) {
        eprintln!(
            "{}: fd {SOCKET_FD} is not a socket; a node starts a provider with its connection \
             there (`ww run --provider {program} IMAGE`)",
            manifest.name
        );
        return ExitCode::from(USAGE);
    }
    init_logs();
    crate::plugin::forward_panics();
    // SAFETY: fd 3 is open (checked above) and nothing else in this
    // process owns it: the node put it there for this purpose.
    let socket = unsafe { OwnedFd::from_raw_fd(SOCKET_FD) };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("cannot build the provider's tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = tokio::task::LocalSet::new();
    let provider: Rc<dyn Provider> = Rc::new(provider);
    match local.block_on(&runtime, run(provider, socket)) {
        Ok(()) => {
            tracing::debug!("the node closed the connection; provider stopped");
            ExitCode::SUCCESS
        }
        Err(Failure::Refused(e)) => {
            tracing::error!("{e}");
            ExitCode::from(USAGE)
        }
        Err(Failure::Vat(e)) => {
            tracing::error!("provider stopped: {e}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    Refused(String),
    Vat(String),
}

async fn run(provider: Rc<dyn Provider>, socket: OwnedFd) -> Result<(), Failure> {
    let vat = |e: std::io::Error| Failure::Vat(format!("fd {SOCKET_FD}: {e}"));
    let std_stream = std::os::unix::net::UnixStream::from(socket);
    std_stream.set_nonblocking(true).map_err(vat)?;
    let stream = tokio::net::UnixStream::from_std(std_stream).map_err(vat)?;
    let (reader, writer) = stream.into_split();
    let (mut reader, mut writer) = (reader.compat(), writer.compat_write());

    let hello = Hello {
        protocol: PROTOCOL_VERSION,
        manifest: provider.manifest(),
        needs: provider.needs(),
        implementation: format!("ww-provider-sdk {}", env!("CARGO_PKG_VERSION")),
    };
    let refused = |e: handshake::HandshakeError| Failure::Refused(format!("handshake: {e}"));
    handshake::write_hello(&mut writer, &hello)
        .await
        .map_err(refused)?;
    let welcome = handshake::read_welcome(&mut reader)
        .await
        .map_err(refused)?;
    if let Err(reason) = welcome.verdict {
        return Err(Failure::Refused(format!(
            "the node (provider protocol {}) refused this provider (protocol {PROTOCOL_VERSION}): \
             {reason}",
            welcome.protocol
        )));
    }

    let network = twoparty::VatNetwork::new(reader, writer, Side::Server, Default::default());
    let bootstrap: plugin::Client = capnp_rpc::new_client(PluginServer::new(provider));
    let rpc = RpcSystem::new(Box::new(network), Some(bootstrap.client));
    match tokio::task::spawn_local(rpc).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Failure::Vat(format!("the provider's vat failed: {e}"))),
        Err(e) => Err(Failure::Vat(format!("the provider's vat ended: {e}"))),
    }
}

/// Events to stderr, one line each, no colour and no time (the node adds
/// its own): `LEVEL target: message key=value`.
fn init_logs() {
    use tracing::level_filters::LevelFilter;
    let level = match std::env::var(LOG_ENV).as_deref() {
        Ok("off") => LevelFilter::OFF,
        Ok("error") => LevelFilter::ERROR,
        Ok("warn") => LevelFilter::WARN,
        Ok("debug") => LevelFilter::DEBUG,
        Ok("trace") => LevelFilter::TRACE,
        _ => LevelFilter::INFO,
    };
    // Fails harmlessly when the program set a subscriber of its own.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .with_max_level(level)
        .try_init();
}

fn is_socket(fd: i32) -> bool {
    // SAFETY: an all-zero stat is a valid value; fstat fills it.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat only writes into `stat`.
    let ok = unsafe { libc::fstat(fd, &mut stat) } == 0;
    ok && (stat.st_mode & libc::S_IFMT) == libc::S_IFSOCK
}
