//! The one place a native cell is confined: the [`Jail`] hook and the
//! [`Policy`] it is given.
//!
//! A Wasm cell is sandboxed by the engine; a native cell is an ordinary
//! process and can do whatever its user may, unless the kernel is told
//! otherwise before it starts. So the node never runs a native cell
//! unconfined by accident: every native cell's `Command` passes through
//! [`Confinement::confine`] just before it is spawned, and there are only
//! two ways through it:
//!
//! - [`Confinement::Jail`]: a [`Jail`] installs its confinement on the
//!   command (its `pre_exec` hooks run in the child after the node's own
//!   set-up of descriptors and process group, right before `exec`), from
//!   the [`Policy`] the node wrote for that cell;
//! - [`Confinement::Unjailed`]: the operator asked for it (`ww run
//!   --no-jail`), and the node said so once, as a WARN.
//!
//! When no jail is built into this ww ([`builtin`] returns `None`) and the
//! operator did not pass `--no-jail`, native cells are refused with
//! [`NativeError::NoJail`](super::NativeError::NoJail): never run unjailed
//! silently.

use std::os::fd::RawFd;
use std::path::PathBuf;
use std::process::Command;
use std::rc::Rc;
use std::time::Duration;

/// Processes (and threads) a jailed native cell and its descendants may
/// have at once, unless its spawn says otherwise.
pub const DEFAULT_MAX_PIDS: u32 = 64;

/// What the node grants one native cell; the jail enforces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The cell's name, for the jail's errors and logs.
    pub cell: String,
    /// The executable (read and execute; for a `#!` script the jail must
    /// also let the interpreter run).
    pub program: PathBuf,
    /// Read-only trees: the cell's image root, if it has one, and each
    /// `ww run --ro PATH`.
    pub read_only: Vec<PathBuf>,
    /// The cell's scratch directory, read-write (its `TMPDIR`, removed when
    /// the cell ends).
    pub scratch: PathBuf,
    /// The descriptor of the cell's RPC socket in the child (always 3):
    /// the one socket it may use; no other network.
    pub rpc_fd: RawFd,
    /// Descriptors passed by name (`--fd NAME=N`), as numbered in the
    /// child (4, 5, …).
    pub passed_fds: Vec<RawFd>,
    /// Memory the cell (its whole process tree) may use, in bytes.
    pub memory: Option<usize>,
    /// CPU time the cell may use (the node also stops it there, with
    /// status 124).
    pub cpu: Option<Duration>,
    /// Processes and threads the cell's tree may have at once.
    pub max_pids: u32,
}

/// Why a jail could not confine a cell.
#[derive(Debug, thiserror::Error)]
#[error("the jail cannot confine {cell}: {reason}")]
pub struct JailError {
    /// The cell.
    pub cell: String,
    /// What failed, with what to do.
    pub reason: String,
}

/// A confinement for native cells (Landlock, seccomp, `no_new_privs`,
/// limits, namespaces: whatever the implementation does).
pub trait Jail {
    /// The jail's name, as logs show it.
    fn name(&self) -> &str;

    /// Confines the process `command` will start to `policy`, typically by
    /// adding a `pre_exec` hook (it runs after the node's own hooks: the
    /// descriptors are already in place, the process is in its own group).
    ///
    /// # Errors
    ///
    /// When the confinement cannot be prepared (the kernel lacks a
    /// feature, a path cannot be opened): the cell does not start.
    fn confine(&self, command: &mut Command, policy: &Policy) -> Result<(), JailError>;
}

/// How this node runs native cells.
#[derive(Clone)]
pub enum Confinement {
    /// Each one jailed.
    Jail(Rc<dyn Jail>),
    /// Unconfined, because the operator said so (`--no-jail`).
    Unjailed,
}

impl std::fmt::Debug for Confinement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Confinement::Jail(jail) => write!(f, "Jail({})", jail.name()),
            Confinement::Unjailed => f.write_str("Unjailed"),
        }
    }
}

impl Confinement {
    /// The confinement of a node: `--no-jail`, else the built-in jail.
    /// `None` when neither is there: native cells are then refused.
    pub fn for_node(no_jail: bool) -> Option<Confinement> {
        if no_jail {
            return Some(Confinement::Unjailed);
        }
        builtin().map(Confinement::Jail)
    }

    /// Applies the confinement to `command`, the last thing done to it
    /// before it is spawned.
    ///
    /// # Errors
    ///
    /// When the jail cannot confine the cell.
    pub fn confine(&self, command: &mut Command, policy: &Policy) -> Result<(), JailError> {
        match self {
            Confinement::Jail(jail) => jail.confine(command, policy),
            Confinement::Unjailed => Ok(()),
        }
    }
}

/// The jail built into this ww, if any.
///
/// None yet: the jail (`ww-jail`) is built separately and plugs in here,
/// as one [`Jail`] implementation.
pub fn builtin() -> Option<Rc<dyn Jail>> {
    None
}
