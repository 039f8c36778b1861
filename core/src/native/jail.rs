//! The one place a native cell is confined: the [`Jail`] hook and the
//! [`Policy`] it is given.
//!
//! A Wasm cell is sandboxed by the engine; a native cell is an ordinary
//! process and can do whatever its user may, unless the kernel is told
//! otherwise before it starts. So the node never runs a native cell
//! unconfined by accident: every native cell's `Command` is started by
//! [`Confinement::spawn`], and there are only two ways through it:
//!
//! - [`Confinement::Jail`]: a [`Jail`] starts the command confined to the
//!   [`Policy`] the node wrote for that cell. The jail, not the node,
//!   places the cell's descriptors (its own set-up in the child holds
//!   descriptors of its own that a `dup2` of the node's could overwrite),
//!   and the jail, not the parent-death signal, ends the cell when the
//!   node dies (a jail may spawn from a thread of its own, whose end would
//!   fire that signal);
//! - [`Confinement::Unjailed`]: the operator asked for it (`ww run
//!   --no-jail`), and the node said so once, as a WARN. The node places
//!   the descriptors and sets the parent-death signal itself.
//!
//! Either way the command already carries the node's own set-up, which
//! runs first in the child: its own process group, close-on-exec on every
//! descriptor from 3 up, the terminal when it is lent.
//!
//! When no jail is built into this ww ([`builtin`] returns `None`) and the
//! operator did not pass `--no-jail`, native cells are refused with
//! [`NativeError::NoJail`](super::NativeError::NoJail); when the jail
//! cannot confine a cell on this host, that cell is refused with
//! [`NativeError::Jail`](super::NativeError::Jail): never run unjailed
//! silently.

use std::any::Any;
use std::os::fd::{BorrowedFd, RawFd};
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
    /// More trees it may read and write, beyond its scratch directory
    /// (only a provider process whose operator granted them; no cell has
    /// any).
    pub read_write: Vec<PathBuf>,
    /// Whether it keeps the host's network: the node's network namespace
    /// and the socket calls a client or server needs. Off for every cell
    /// (its one socket is fd 3); on only for a provider process that asked
    /// for it and whose operator granted it (`--provider-grant
    /// NAME:network`).
    pub network: bool,
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

/// A descriptor of the node and the number the cell sees it at.
pub type Passed<'a> = (BorrowedFd<'a>, RawFd);

/// A started native cell: the process the node waits for and kills (its
/// group is the cell's), and what must live as long as that process.
pub struct Started {
    /// The process the node waits for; it leads the cell's process group.
    pub pid: libc::pid_t,
    /// Held until the process is reaped (a jail's handle on it).
    pub keep: Option<Box<dyn Any>>,
}

/// A confinement for native cells (Landlock, seccomp, `no_new_privs`,
/// limits, namespaces: whatever the implementation does).
pub trait Jail {
    /// The jail's name, as logs show it.
    fn name(&self) -> &str;

    /// Starts `command` confined to `policy`, with `fds` at their numbers
    /// (the RPC socket at 3, passed descriptors after it). The process it
    /// returns must end with the cell's status (its own code, 128 + n for
    /// signal n, 124 for the CPU budget) and take the cell's whole tree
    /// with it when killed or when the node dies.
    ///
    /// # Errors
    ///
    /// [`NativeError::Jail`](super::NativeError::Jail) when the
    /// confinement cannot be prepared (the kernel lacks a feature, a path
    /// cannot be opened), [`NativeError::Spawn`](super::NativeError::Spawn)
    /// when the program cannot start: the cell does not run.
    fn spawn(
        &self,
        command: Command,
        fds: &[Passed<'_>],
        policy: &Policy,
    ) -> Result<Started, super::NativeError>;
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

    /// Starts `command` with `fds` at their numbers, jailed to `policy`
    /// or, unjailed, with the node's own set-up of the descriptors and the
    /// parent-death signal.
    ///
    /// # Errors
    ///
    /// When the jail cannot confine the cell, or the program cannot be
    /// started.
    pub fn spawn(
        &self,
        command: Command,
        fds: &[Passed<'_>],
        policy: &Policy,
    ) -> Result<Started, super::NativeError> {
        match self {
            Confinement::Jail(jail) => jail.spawn(command, fds, policy),
            Confinement::Unjailed => super::spawn::unjailed(command, fds, policy),
        }
    }
}

/// The jail built into this ww: `ww-jail` (see
/// [`builtin_jail`](super::builtin_jail)). Whether this host can jail is
/// found out at each cell's start, which fails naming what is missing.
pub fn builtin() -> Option<Rc<dyn Jail>> {
    Some(Rc::new(super::builtin_jail::WwJail))
}
