//! Namespaces: a PID namespace so the tree dies with its init, a network
//! namespace so there is no network, a user namespace so the process bound
//! is this cell's own.
//!
//! # PID namespace, and why spawning happens on a thread of its own
//!
//! The jail's init must be PID 1 of a new PID namespace: when PID 1 dies,
//! the kernel kills every other process in the namespace, however it was
//! forked, double-forked or `setsid`'d away. `unshare(CLONE_NEWPID)` does
//! not move the caller, only its *next* children, and only those of the
//! calling thread (a thread may do this in a multi-threaded process; it
//! needs `CAP_SYS_ADMIN`). So [`in_new_pid_namespace`] unshares, spawns,
//! and `setns`es the thread's children back into the node's namespace.
//! The forked child is then PID 1, and `kill(2)` on it from the node ends
//! the whole tree before the node's `wait` returns. (A throwaway thread
//! per spawn would do too, at the price of a thread and two more context
//! switches per spawn: about half a millisecond on a busy machine.)
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

use std::fs::File;
use std::sync::OnceLock;

use nix::sched::{setns, unshare, CloneFlags};
use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};

use crate::error::{Error, Feature};

/// Runs `spawn` on this thread with its children starting in a new PID
/// namespace, then puts the thread's children back in the node's.
pub(crate) fn in_new_pid_namespace<T>(
    spawn: impl FnOnce() -> Result<T, Error>,
) -> Result<T, Error> {
    let node = node_pid_namespace()?;
    unshare(CloneFlags::CLONE_NEWPID).map_err(|e| Error::Unavailable {
        feature: Feature::PidNamespace,
        why: format!("unshare(CLONE_NEWPID): {e} (the node needs CAP_SYS_ADMIN: run it as root)"),
    })?;
    let restore = Restore(node);
    let spawned = spawn();
    restore.now()?;
    spawned
}

/// The node's own PID namespace, opened once.
fn node_pid_namespace() -> Result<&'static File, Error> {
    static NODE: OnceLock<File> = OnceLock::new();
    if let Some(ns) = NODE.get() {
        return Ok(ns);
    }
    let ns = File::open("/proc/self/ns/pid").map_err(|e| Error::Unavailable {
        feature: Feature::PidNamespace,
        why: format!("cannot open /proc/self/ns/pid: {e}"),
    })?;
    Ok(NODE.get_or_init(|| ns))
}

/// Puts the thread's future children back in the node's PID namespace,
/// also when the spawn unwinds: a thread left pointing at the cell's
/// namespace would fork every later child into it (and fail once the
/// cell's init is gone).
struct Restore(&'static File);

impl Restore {
    fn now(self) -> Result<(), Error> {
        let result = setns(self.0, CloneFlags::CLONE_NEWPID);
        std::mem::forget(self);
        result.map_err(|e| Error::Unavailable {
            feature: Feature::PidNamespace,
            why: format!("setns back to the node's PID namespace: {e}"),
        })
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = setns(self.0, CloneFlags::CLONE_NEWPID);
    }
}

/// Drops root for `uid`/`gid`, supplementary groups included. In the child;
/// allocation-free.
pub(crate) fn drop_root(uid: u32, gid: u32) -> nix::Result<()> {
    setgroups(&[])?;
    setresgid(Gid::from_raw(gid), Gid::from_raw(gid), Gid::from_raw(gid))?;
    setresuid(Uid::from_raw(uid), Uid::from_raw(uid), Uid::from_raw(uid))
}

/// Enters new user, network (unless the process keeps the host's,
/// `network`) and IPC (System V objects, POSIX message queues) namespaces,
/// and with `pid` makes a PID namespace for the next child (the node is not
/// root, and the user namespace gives the right). In the child;
/// allocation-free.
pub(crate) fn enter(pid: bool, network: bool) -> nix::Result<()> {
    let mut flags = CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWIPC;
    if !network {
        flags |= CloneFlags::CLONE_NEWNET;
    }
    if pid {
        flags |= CloneFlags::CLONE_NEWPID;
    }
    unshare(flags)
}
