//! Namespaces: a PID namespace so the tree dies with its init, a network
//! namespace so there is no network, a user namespace so the process bound
//! is this cell's own.
//!
//! # PID namespace, and why spawning happens on a thread of its own
//!
//! The jail's init must be PID 1 of a new PID namespace: when PID 1 dies,
//! the kernel kills every other process in the namespace, however it was
//! forked, double-forked or `setsid`'d away. `unshare(CLONE_NEWPID)` does
//! not move the caller, only its *next* child, and it cannot be undone; so
//! [`in_new_pid_namespace`] runs the spawn on a short-lived thread that
//! unshares first (a thread may do this in a multi-threaded process; it
//! needs `CAP_SYS_ADMIN`). The forked child is then PID 1, and `kill(2)`
//! on it from the node ends the whole tree before the node's `wait`
//! returns.
//!
//! # User namespace: a process bound per cell
//!
//! `RLIMIT_NPROC` counts processes per user *and per user namespace*
//! (Linux 5.14 and later), and root is exempt. So the child drops root for
//! the policy's uid (`nobody`), then unshares a user namespace; set after
//! that, the limit counts this cell's processes alone. The new namespace
//! has no uid map (the process shows up as the overflow uid), so the
//! program gets no capability in it at `exec`.
//!
//! # Network namespace
//!
//! A new network namespace has only a loopback interface, down; abstract
//! Unix sockets are per network namespace too, so none of the host's are
//! reachable. Descriptors the process was handed (fd 3) keep working: they
//! were opened outside.

use std::io;

use nix::sched::{unshare, CloneFlags};
use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};

use crate::error::{Error, Feature};

/// Runs `spawn` on a new thread whose children start in a new PID
/// namespace, and returns what it returns.
pub(crate) fn in_new_pid_namespace<T, F>(spawn: F) -> Result<T, Error>
where
    T: Send,
    F: FnOnce() -> Result<T, Error> + Send,
{
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("ww-jail-spawn".into())
            .spawn_scoped(scope, || {
                unshare(CloneFlags::CLONE_NEWPID).map_err(|e| Error::Unavailable {
                    feature: Feature::PidNamespace,
                    why: format!(
                        "unshare(CLONE_NEWPID): {e} (the node needs CAP_SYS_ADMIN: run it as root)"
                    ),
                })?;
                spawn()
            })
            .map_err(Error::Spawn)?;
        thread.join().unwrap_or_else(|_| {
            Err(Error::Spawn(io::Error::other(
                "the spawning thread panicked",
            )))
        })
    })
}

/// Drops root for `uid`/`gid`, supplementary groups included. In the child;
/// allocation-free.
pub(crate) fn drop_root(uid: u32, gid: u32) -> nix::Result<()> {
    setgroups(&[])?;
    setresgid(Gid::from_raw(gid), Gid::from_raw(gid), Gid::from_raw(gid))?;
    setresuid(Uid::from_raw(uid), Uid::from_raw(uid), Uid::from_raw(uid))
}

/// Enters new user, network and IPC (System V objects, POSIX message
/// queues) namespaces, and with `pid` makes a PID namespace for the next
/// child (the node is not root, and the user namespace gives the right).
/// In the child; allocation-free.
pub(crate) fn enter(pid: bool) -> nix::Result<()> {
    let mut flags = CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWIPC;
    if pid {
        flags |= CloneFlags::CLONE_NEWPID;
    }
    unshare(flags)
}
