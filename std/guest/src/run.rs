//! The entry point of a cell: connect, graft, run `main`, map to an exit code.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::pin;
use std::process::ExitCode;

use futures::future::{select, Either};
use ww_capnp::membrane_capnp::membrane;

use crate::{executor, vat, Error};

/// Connects the vat, then runs `main` with the host's Membrane while driving
/// the RPC system, until `main` returns.
///
/// Returns exit status 0 when `main` succeeds. Otherwise prints
/// `error: {e}` to stderr and returns 1 — including when the vat cannot be
/// opened, or ends before `main` does (the host closed or rejected it).
pub fn run<F, Fut>(main: F) -> ExitCode
where
    F: FnOnce(membrane::Client) -> Fut,
    Fut: Future<Output = Result<(), Box<dyn StdError>>>,
{
    run_with(None, main)
}

/// Like [`run`], and serves `export` to the host as this cell's own
/// capability for as long as `main` runs: a parent reaches it through
/// `Process.bootstrap()`. A cell that only serves can make `main` wait
/// forever (`std::future::pending()`) and be stopped by its parent.
pub fn run_exporting<F, Fut>(export: capnp::capability::Client, main: F) -> ExitCode
where
    F: FnOnce(membrane::Client) -> Fut,
    Fut: Future<Output = Result<(), Box<dyn StdError>>>,
{
    run_with(Some(export), main)
}

fn run_with<F, Fut>(export: Option<capnp::capability::Client>, main: F) -> ExitCode
where
    F: FnOnce(membrane::Client) -> Fut,
    Fut: Future<Output = Result<(), Box<dyn StdError>>>,
{
    let outcome = vat::connect_exporting(export)
        .map_err(Box::<dyn StdError>::from)
        .and_then(|(membrane, rpc_system)| {
            executor::block_on(async move {
                let rpc_system = pin!(rpc_system);
                let main = pin!(main(membrane));
                match select(main, rpc_system).await {
                    Either::Left((result, _rpc_system)) => result,
                    Either::Right((Ok(()), _main)) => Err(Error::VatClosed.into()),
                    Either::Right((Err(e), _main)) => Err(Error::Vat(e).into()),
                }
            })
        });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
