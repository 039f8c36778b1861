//! pid0 of a ww node: grafts the membrane, runs `etc/init.d/*.glia` in name
//! order, starts the services in `svc/`, then runs the Glia shell on stdin.
//! With stdin closed it stays up as a daemon serving what it started (or
//! with `--daemon`); with stdin closed and nothing started, it lists the
//! capabilities it was granted and ends.
//!
//! ```text
//! $ printf '(host id)\n(+ 1 2)\n' | ww run std/kernel
//! "12D3KooW…"
//! 3
//! ```
//!
//! It also exports a `Shell` (`shell.capnp`) to its host, through which the
//! host's terminal and MCP front ends evaluate (see [`export`]).
//!
//! Capabilities are values, called through the schema nodes the graft
//! carries (see [`dynamic`]); an unknown command runs from `PATH` as a
//! child cell (see [`bin`]).

mod bin;
mod builtins;
mod dynamic;
mod export;
mod init;
mod listing;
mod repl;
mod schemas;
mod session;

use std::process::ExitCode;

/// The argument (`ww run std/kernel -- --daemon`) that keeps the kernel up
/// when stdin is closed even with no services to serve.
const DAEMON_FLAG: &str = "--daemon";

fn main() -> ExitCode {
    let shell = export::ShellImpl::default();
    let ready = shell.ready();
    let client: ww_capnp::shell_capnp::shell::Client = capnp_rpc::new_client(shell);
    ww_guest::run_exporting(client.client, |membrane| async move {
        let daemon = std::env::args().skip(1).any(|a| a == DAEMON_FLAG);
        let session = session::Session::new(membrane);
        session.graft().await?;
        builtins::install(&session);
        bin::install(&session);
        ready.set(session.clone());
        init::run_scripts(&session).await;
        let services = init::start_services(&session).await;
        let end = repl::run(&session).await;
        match end {
            repl::End::Exit(code) => ww_guest::exit(code as u8),
            repl::End::Eof => Ok(()),
            repl::End::Closed if services.is_empty() && !daemon => {
                // Nothing to read and nothing to serve: report what the
                // node granted, and end.
                session.eval("(caps)").await?;
                Ok(())
            }
            repl::End::Closed => {
                // A daemon: show the services' output and serve until the
                // node stops it.
                init::forward_output(&services).await;
                std::future::pending::<()>().await;
                Ok(())
            }
        }
    })
}
