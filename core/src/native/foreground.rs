//! The terminal, lent to a native pid0.
//!
//! A native cell leads a process group of its own (so its tree can be
//! killed as one), which would make it a background job on ww's terminal:
//! reading it would stop the cell (SIGTTIN), and Ctrl-C would reach ww,
//! not the cell. So when ww runs in the foreground of the terminal on its
//! stdin, a native pid0 with inherited stdio is made the terminal's
//! foreground group for its life (as a shell does for a job), and ww takes
//! the terminal back when it ends. Ctrl-C then goes to the cell, which
//! decides; a cell ended by it makes ww exit with 130. Stopping the cell
//! (Ctrl-Z) is not supported: ww does not resume stopped jobs.

/// Whether the terminal on stdin is in ww's hands: the foreground group
/// of a terminal is ww's own group.
pub fn ours() -> bool {
    // SAFETY: isatty, tcgetpgrp and getpgrp have no memory-safety
    // preconditions.
    unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) == libc::getpgrp() }
}

/// In the child, between `fork` and `exec` (after it made its own group):
/// takes the terminal's foreground. Async-signal-safe.
pub(super) fn take_in_child() -> std::io::Result<()> {
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    set_foreground(me)
}

/// Holds the terminal for a native pid0; gives it back to ww when dropped.
pub(super) struct Lent {
    ww: libc::pid_t,
}

impl Lent {
    /// The terminal was lent (by the child, as it started).
    pub(super) fn new() -> Lent {
        // SAFETY: getpgrp has no preconditions.
        Lent {
            ww: unsafe { libc::getpgrp() },
        }
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Err(e) = set_foreground(self.ww) {
            tracing::debug!("cannot take the terminal back from the native cell: {e}");
        }
    }
}

/// Makes `group` the foreground group of the terminal on stdin. The caller
/// is in a background group then, where the change would stop it with
/// SIGTTOU, so that signal is blocked around the call.
fn set_foreground(group: libc::pid_t) -> std::io::Result<()> {
    // SAFETY: sigset operations on local sets; sigprocmask (this thread's
    // mask, async-signal-safe) and tcsetpgrp have no memory-safety
    // preconditions.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut before: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGTTOU);
        libc::sigprocmask(libc::SIG_BLOCK, &block, &mut before);
        let set = libc::tcsetpgrp(0, group);
        let error = std::io::Error::last_os_error();
        libc::sigprocmask(libc::SIG_SETMASK, &before, std::ptr::null_mut());
        if set == -1 {
            return Err(error);
        }
    }
    Ok(())
}
