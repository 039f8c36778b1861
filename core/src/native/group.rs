//! A native cell's process tree, ended with the cell, and every live tree
//! of a node, ended with the node.
//!
//! Each native cell starts as the leader of a process group of its own, so
//! that its descendants (which stay in the group unless they leave it) can
//! be signalled at once: when the cell's main process exits, when the cell
//! is killed, and when the node ends. A descendant that makes a group or
//! session of its own escapes this; the jail's PID namespace is what holds
//! such a tree. If ww itself is killed outright (SIGKILL), each cell's main
//! process gets the parent-death signal (see [`spawn`](super::spawn)).

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use super::jail::Started;

/// The process groups of a node's live native cells.
#[derive(Clone, Default)]
pub struct Tree {
    groups: Rc<RefCell<HashSet<libc::pid_t>>>,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Tree {
        Tree::default()
    }

    /// Kills every live native cell and its descendants (SIGKILL): the
    /// node is ending.
    pub fn kill_all(&self) {
        for &group in self.groups.borrow().iter() {
            signal_group(group, libc::SIGKILL);
            // The leader itself, in case it left its group.
            // SAFETY: kill(2) has no memory-safety preconditions.
            unsafe { libc::kill(group, libc::SIGKILL) };
        }
    }

    /// How many native cells are alive.
    pub fn live(&self) -> usize {
        self.groups.borrow().len()
    }
}

/// One native cell's process group, led by its main process `pid`.
///
/// Dropped before the main process was reaped (the cell was killed, its
/// task aborted, or the node is ending), it kills the whole group and
/// reaps the main process on a thread of its own.
pub struct Group {
    pid: libc::pid_t,
    tree: Tree,
    reaped: bool,
    // The jail's handle on the process, held until it is reaped.
    _keep: Option<Box<dyn Any>>,
}

impl Group {
    /// The group of the just-started cell, counted in `tree`.
    pub(super) fn new(started: Started, tree: &Tree) -> Group {
        tree.groups.borrow_mut().insert(started.pid);
        Group {
            pid: started.pid,
            tree: tree.clone(),
            reaped: false,
            _keep: started.keep,
        }
    }

    /// The main process.
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// Kills the whole group (SIGKILL), and the main process itself in
    /// case it left the group (`setsid`). Only while the main process is
    /// not reaped: until then its number cannot name another process or
    /// group.
    pub fn kill(&self) {
        if !self.reaped {
            signal_group(self.pid, libc::SIGKILL);
            // SAFETY: kill(2) has no memory-safety preconditions.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
        }
    }

    /// The main process was reaped: the group's number may be reused from
    /// now on, so it is never signalled again.
    pub(super) fn reaped(&mut self) {
        self.reaped = true;
        self.tree.groups.borrow_mut().remove(&self.pid);
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        self.kill();
        self.tree.groups.borrow_mut().remove(&self.pid);
        let pid = self.pid;
        // Reaped off the node's thread: SIGKILL ends it, but not always at
        // once (a process in uninterruptible sleep).
        let reaper = std::thread::Builder::new()
            .name("ww-reaper".into())
            .spawn(move || {
                let mut word = 0;
                // SAFETY: waits for this node's own child.
                unsafe { libc::waitpid(pid, &mut word, 0) };
            });
        if let Err(e) = reaper {
            tracing::warn!("cannot reap native cell process {pid}: {e}");
        }
    }
}

fn signal_group(group: libc::pid_t, signal: libc::c_int) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(-group, signal) };
}
