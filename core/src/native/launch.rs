//! Everything a native cell is given besides its RPC socket: the native
//! counterpart of [`cell::Spec`](crate::cell::Spec).

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use super::fds::PassedFd;
use crate::limits::Limits;

/// Where a native cell's stdio goes.
#[derive(Debug, Default)]
pub enum Stdio {
    /// ww's own stdin, stdout and stderr (pid0). When ww holds the
    /// terminal, the cell is lent it (see [`foreground`](super::foreground)).
    #[default]
    Inherit,
    /// The cell's ends of three pipes whose other ends its parent holds.
    Piped {
        /// Read by the cell.
        stdin: OwnedFd,
        /// Written by the cell.
        stdout: OwnedFd,
        /// Written by the cell.
        stderr: OwnedFd,
    },
}

/// One native cell to start.
#[derive(Debug, Default)]
pub struct Launch {
    /// Names the cell in errors and logs.
    pub name: String,
    /// The executable on the host.
    pub program: PathBuf,
    /// `argv`, including `argv[0]` (which need not be `program`).
    pub argv: Vec<String>,
    /// The only environment the cell sees, besides what the node adds
    /// (`WW_FD_*`, and `TMPDIR` when it is not set here).
    pub env: Vec<(String, String)>,
    /// The cell's image: its working directory and read-only in the jail.
    /// Without one, the cell starts in its scratch directory.
    pub root: Option<PathBuf>,
    /// More trees the cell may read (`--ro`).
    pub read_only: Vec<PathBuf>,
    /// Trees it may read and write besides its scratch directory (a
    /// provider process's granted `rw=` paths; empty for cells).
    pub read_write: Vec<PathBuf>,
    /// Whether it keeps the host's network (a provider process granted
    /// `network`; never a cell).
    pub network: bool,
    /// Host descriptors passed by name, from fd 4 on.
    pub fds: Vec<PassedFd>,
    /// Its stdio.
    pub stdio: Stdio,
    /// Its memory and CPU limits.
    pub limits: Limits,
}
