//! Native cells (the Cell API): any executable runs as a cell.
//!
//! Not every agent can be built for WebAssembly, and some need a host
//! library or a language runtime the engine cannot give them. A native cell
//! is an ordinary process, started and held by the node like a Wasm cell:
//!
//! - **The same door.** Its fd 3 is one end of a Unix socket pair; on the
//!   other end the node runs the cell's Cap'n Proto vat
//!   ([`vat::connect`](crate::vat::connect)), bootstrapping the cell's
//!   [`MembraneServer`](crate::membrane::MembraneServer): the same graft,
//!   epoch guard and `staleEpoch`, the same per-cell RPC bounds
//!   ([`CellBudget`](crate::rpc_budget::CellBudget)) as a Wasm cell's.
//! - **The same accounting.** Its memory limit (with what its RPC bounds
//!   let it make the node hold) is reserved from the node's memory budget
//!   while it lives; the node's work on its calls and its own CPU time are
//!   charged to its [`Share`](crate::cpu::Share), checked against its CPU
//!   budget (status 124) and reported by `Process.wait`.
//! - **Only what it is given.** stdio, its argv, only the environment it
//!   is given ([`env`]), descriptors passed by name ([`fds`]), and, jailed
//!   ([`jail`]), read access to its image and `--ro` trees and a scratch
//!   directory.
//! - **Statuses** as a Wasm cell's ([`status`]), with 128 + n for a
//!   process killed by signal n.
//! - **Its whole tree ends with it** ([`group`]): when the cell ends, is
//!   killed, or the node ends.
//!
//! pid0 is native when `ww run` is given an executable instead of image
//! layers, or an image whose kernel is `boot/main` instead of
//! `boot/main.wasm`; a cell spawns native children through its `Executor`
//! when the node allows it (`ww run --allow-native-children`).
//!
//! Hazard: a native cell runs on the machine's cores, not on the node's
//! thread, so the node's CPU scheduler does not interleave it with Wasm
//! cells; its CPU time is charged to its group when it exits, and its
//! budget is enforced by killing it.

mod builtin_jail;
pub mod env;
pub mod fds;
pub mod foreground;
pub mod group;
pub mod jail;
pub mod launch;
pub mod program;
mod runner;
pub mod spawn;
pub mod status;
mod wait;

use std::path::PathBuf;

pub use jail::{Confinement, Jail, Passed, Policy, Started};
pub use launch::{Launch, Stdio};
pub use runner::{Exit, Runner};
pub use spawn::rpc_pair;

/// Why a native cell could not start.
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    /// No jail, and the operator did not ask to run unjailed.
    #[error(
        "cannot run {cell}: native cells and provider processes run jailed, and the jail is not \
         available in this ww; to run it unjailed (it can then do whatever ww's user can) pass \
         --no-jail"
    )]
    NoJail {
        /// The cell.
        cell: String,
    },
    /// The jail could not confine the cell.
    #[error("{0}")]
    Jail(jail::JailError),
    /// The program could not be started.
    #[error("cannot run {cell}: {}: {}", program.display(), spawn_reason(source))]
    Spawn {
        /// The cell.
        cell: String,
        /// The program.
        program: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The program exists but cannot be executed.
    #[error("cannot run {cell}: {} is not executable: {reason}", program.display())]
    NotExecutable {
        /// The cell.
        cell: String,
        /// The program.
        program: PathBuf,
        /// Why, with what to do.
        reason: String,
    },
    /// Something the node needs for the cell failed.
    #[error("cannot run {cell}: cannot {what}: {source}")]
    Io {
        /// The cell.
        cell: String,
        /// What the node was doing.
        what: &'static str,
        /// The cause.
        source: std::io::Error,
    },
}

impl NativeError {
    /// The exit status for this failure, in the Cell API's numbering: 127
    /// for a program (or interpreter) not found, 126 for one that cannot
    /// be executed here, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        use crate::limits::status as code;
        match self {
            NativeError::Spawn { source, .. } => status::spawn_failure(source),
            NativeError::NoJail { .. }
            | NativeError::Jail(_)
            | NativeError::NotExecutable { .. } => code::NOT_EXECUTABLE,
            NativeError::Io { .. } => code::FAILURE,
        }
    }
}

fn spawn_reason(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(libc::ENOENT) => {
            "not found (for a #! script, its interpreter may be the one missing)".into()
        }
        Some(libc::ENOEXEC) => "not a format this machine can execute".into(),
        Some(libc::EACCES) => format!(
            "{error} (jailed, a cell runs as nobody when ww is root: the program and every \
             directory above it must be readable and searchable by nobody)"
        ),
        _ => error.to_string(),
    }
}
