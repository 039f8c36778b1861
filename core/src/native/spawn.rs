//! Building a native cell's `Command` and starting it.
//!
//! The command is built in one place, in this order: program, `argv`, the
//! cell's environment and no other, its working directory and stdio, a
//! process group of its own; then the node's set-up in the child (the
//! terminal when it is lent, close-on-exec on every descriptor from 3 up);
//! then it is handed to the [`Confinement`], which starts it with the
//! cell's descriptors at their numbers: jailed, or (`--no-jail`) through
//! [`unjailed`].

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use super::fds::{self, Layout, PassedFd, RPC_FD};
use super::jail::{Confinement, Passed, Policy, Started};
use super::launch::Stdio;
use super::{foreground, NativeError};

/// What [`spawn`] needs besides the jail.
pub(super) struct Prepared<'a> {
    pub program: &'a Path,
    pub argv: &'a [String],
    pub env: &'a [(String, String)],
    pub cwd: &'a Path,
    pub stdio: Stdio,
    pub fds: &'a [PassedFd],
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

/// Starts `prepared` through `confinement`, confined to `policy`, with
/// `rpc` (the cell's end of its socket) at fd 3 and the passed
/// descriptors from fd 4. `rpc` is closed in the node once the child has
/// it.
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
) -> Result<Started, NativeError> {
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
    let lend = prepared.foreground;
    // SAFETY: the hook runs between fork and exec; it makes system calls
    // only (no allocation, no locks), as that requires.
    unsafe {
        command.pre_exec(move || {
            if lend {
                foreground::take_in_child()?;
            }
            fds::close_from(RPC_FD)
        });
    }
    // SAFETY: `fds::check` found each passed descriptor open when ww
    // started, and nothing in ww closes them.
    let host = |fd| unsafe { BorrowedFd::borrow_raw(fd) };
    let mut passed: Vec<Passed<'_>> = vec![(rpc.as_fd(), RPC_FD)];
    passed.extend(
        prepared
            .fds
            .iter()
            .zip(fds::passed_targets(prepared.fds.len()))
            .map(|(fd, to)| (host(fd.host), to)),
    );
    confinement.spawn(command, &passed, policy)
}

/// Starts `command` unconfined (`--no-jail`), placing `fds` itself and
/// setting the parent-death signal.
///
/// Hazard: that signal is sent when the *thread* that forked the child
/// ends. Unjailed cells are spawned here, on the node's thread, which
/// lives as long as the node.
///
/// # Errors
///
/// When the program cannot be executed.
pub(super) fn unjailed(
    mut command: Command,
    fds: &[Passed<'_>],
    policy: &Policy,
) -> Result<Started, NativeError> {
    let layout = Layout::new(fds.iter().map(|(fd, to)| (fd.as_raw_fd(), *to)).collect());
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: as in `spawn`: system calls only.
    unsafe {
        command.pre_exec(move || {
            dies_with(parent)?;
            layout.apply()
        });
    }
    let child = command.spawn().map_err(|source| NativeError::Spawn {
        cell: policy.cell.clone(),
        program: policy.program.clone(),
        source,
    })?;
    Ok(Started {
        pid: child.id() as libc::pid_t,
        keep: None,
    })
}

/// In the child: dies with the node, even when the node cannot end it
/// (SIGKILL).
fn dies_with(parent: libc::pid_t) -> std::io::Result<()> {
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
    Ok(())
}
