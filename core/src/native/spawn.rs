//! Building a native cell's `Command` and starting it.
//!
//! The command is built in one place, in this order: program, `argv`, the
//! cell's environment and no other, its working directory and stdio; then
//! the node's own set-up in the child (a process group of its own, the
//! parent-death signal, the terminal when it is lent, the descriptor
//! layout of [`fds`](super::fds)); then, last, the jail's
//! ([`Confinement::confine`]). Only then is it spawned.
//!
//! Hazard: the parent-death signal is sent when the *thread* that forked
//! the child ends. Cells are spawned from the node's thread, which lives as
//! long as the node.

use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::fds::Layout;
use super::jail::{Confinement, Policy};
use super::launch::Stdio;
use super::{foreground, NativeError};

/// What [`spawn`] needs besides the jail.
pub(super) struct Prepared<'a> {
    pub name: &'a str,
    pub program: &'a Path,
    pub argv: &'a [String],
    pub env: &'a [(String, String)],
    pub cwd: &'a Path,
    pub stdio: Stdio,
    pub layout: Layout,
    /// Lend the cell the terminal (see [`foreground`]).
    pub foreground: bool,
}

/// A Unix socket pair for a cell's vat: the node's end, ready for tokio,
/// and the cell's end (blocking, as a program expects its fd 3).
///
/// # Errors
///
/// When the sockets cannot be created.
pub fn rpc_pair() -> std::io::Result<(tokio::net::UnixStream, OwnedFd)> {
    let (node, cell) = std::os::unix::net::UnixStream::pair()?;
    node.set_nonblocking(true)?;
    Ok((tokio::net::UnixStream::from_std(node)?, cell.into()))
}

/// Spawns `prepared` confined by `confinement` to `policy`; returns the
/// main process's pid. `rpc`, the cell's end of its socket, is closed in
/// the node once the child has it.
///
/// # Errors
///
/// When the jail cannot confine the cell, or the program cannot be
/// executed (the error carries status 126 or 127).
pub(super) fn spawn(
    prepared: Prepared<'_>,
    rpc: OwnedFd,
    confinement: &Confinement,
    policy: &Policy,
) -> Result<libc::pid_t, NativeError> {
    let mut command = Command::new(prepared.program);
    if let Some((argv0, args)) = prepared.argv.split_first() {
        command.arg0(argv0).args(args);
    }
    command
        .env_clear()
        .envs(prepared.env.iter().map(|(k, v)| (k, v)))
        .current_dir(prepared.cwd)
        .process_group(0);
    if let Stdio::Piped {
        stdin,
        stdout,
        stderr,
    } = prepared.stdio
    {
        command.stdin(stdin).stdout(stdout).stderr(stderr);
    }
    let layout = prepared.layout;
    // The socket is moved into the child's set-up, so the node's copy
    // closes with the command, right after the spawn.
    let lend = prepared.foreground;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the hook runs between fork and exec; it makes system calls
    // only (no allocation, no locks), as that requires.
    unsafe {
        command.pre_exec(move || {
            let _open_until_spawned = &rpc;
            in_child(parent, lend, &layout)
        });
    }
    confinement.confine(&mut command, policy)?;
    let child = command.spawn().map_err(|source| NativeError::Spawn {
        cell: prepared.name.to_string(),
        program: prepared.program.to_path_buf(),
        source,
    })?;
    Ok(child.id() as libc::pid_t)
}

/// The node's set-up in the child, before the jail's.
fn in_child(parent: libc::pid_t, lend: bool, layout: &Layout) -> std::io::Result<()> {
    // Dies with the node, even when the node cannot end it (SIGKILL).
    // SAFETY: prctl and getppid have no memory-safety preconditions.
    unsafe {
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
            return Err(std::io::Error::last_os_error());
        }
        // The node may have died before the line above.
        if libc::getppid() != parent {
            return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
        }
    }
    if lend {
        foreground::take_in_child()?;
    }
    layout.apply()
}

/// The working directory of a cell whose image is `root`, or its scratch.
pub(super) fn cwd<'a>(root: Option<&'a PathBuf>, scratch: &'a Path) -> &'a Path {
    root.map_or(scratch, PathBuf::as_path)
}
