//! The jail's init: the process the node forks, PID 1 of the cell's PID
//! namespace, which applies the jail, forks the program, and waits.
//!
//! Everything here runs between `fork` and `exec` in a child of a
//! multi-threaded process, where only async-signal-safe calls are sound:
//! no allocation, no locks. Rulesets, filters and limits were built in the
//! node; this code only hands them to the kernel. Forking again uses the
//! raw `clone` system call rather than libc's `fork`, which runs `atfork`
//! handlers that take locks another thread of the node may have held.
//!
//! # What the init does
//!
//! It stays behind as PID 1 (it never `exec`s): it reaps orphans (whose
//! zombies would otherwise count against the process limit), writes how
//! the program ended to the node (a [`report`](crate::status)), and exits
//! with the cell's status. Its death, for whatever reason, kills every
//! process left in the namespace. It also watches a *lifeline*, a pipe
//! whose write end only the node holds: when the node dies, however it
//! dies, the pipe reads end-of-file and the init exits, taking the cell
//! with it. (`PR_SET_PDEATHSIG` would fire when the node's *thread* that
//! forked exits, which here is a throwaway spawning thread, and under
//! tokio any blocking-pool thread.)

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::{Arc, OnceLock};

use landlock::RulesetCreated;
use nix::errno::Errno;
use nix::poll::{ppoll, PollFd, PollFlags};
use nix::sys::resource::{getrusage, UsageWho};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::error::Step;
use crate::limits::Rlimits;
use crate::namespaces;
use crate::seccomp::Filters;
use crate::status::{report, Ending};

/// The node's end of every init's lifeline, made once per node process.
struct Lifeline {
    read: OwnedFd,
    write: OwnedFd,
}

static LIFELINE: OnceLock<Lifeline> = OnceLock::new();

fn lifeline() -> io::Result<&'static Lifeline> {
    if let Some(l) = LIFELINE.get() {
        return Ok(l);
    }
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // A racing thread may have set it first; then these two just close.
    Ok(LIFELINE.get_or_init(|| Lifeline { read, write }))
}

/// What the init needs, prepared in the node for one spawn.
pub(crate) struct Init {
    rlimits: Rlimits,
    drop_root: Option<(u32, u32)>,
    ruleset: Option<RulesetCreated>,
    filters: Arc<Filters>,
    report: OwnedFd,
    lifeline_read: RawFd,
    lifeline_write: RawFd,
    /// Descriptors to pass: (the node's, the number the program sees).
    fds: Vec<(RawFd, RawFd)>,
}

impl Init {
    pub(crate) fn new(
        rlimits: Rlimits,
        drop_root: Option<(u32, u32)>,
        ruleset: RulesetCreated,
        filters: Arc<Filters>,
        report: OwnedFd,
        fds: Vec<(RawFd, RawFd)>,
    ) -> io::Result<Init> {
        let lifeline = lifeline()?;
        Ok(Init {
            rlimits,
            drop_root,
            ruleset: Some(ruleset),
            filters,
            report,
            lifeline_read: lifeline.read.as_raw_fd(),
            lifeline_write: lifeline.write.as_raw_fd(),
            fds,
        })
    }

    /// The body of `pre_exec`. Returns in the program's process (which then
    /// `exec`s); never returns in the init. On a failed step, tells the node
    /// which step before failing the spawn.
    pub(crate) fn run(&mut self) -> io::Result<()> {
        match self.setup() {
            // The program: go on to exec.
            Ok(None) => Ok(()),
            Ok(Some(program)) => self.wait(program),
            Err((step, errno)) => {
                write_all(self.report.as_raw_fd(), &report::setup_failed(step));
                Err(io::Error::from_raw_os_error(errno as i32))
            }
        }
    }

    /// Applies the jail to this process, then forks the program. Returns
    /// the program's pid in the init, `None` in the program.
    fn setup(&mut self) -> Result<Option<Pid>, (Step, Errno)> {
        reset_signals().map_err(|e| (Step::Signals, e))?;
        self.rlimits.apply().map_err(|e| (Step::Limits, e))?;
        if let Some((uid, gid)) = self.drop_root {
            namespaces::drop_root(uid, gid).map_err(|e| (Step::DropRoot, e))?;
        }
        namespaces::enter().map_err(|e| (Step::Namespaces, e))?;
        self.rlimits
            .apply_processes()
            .map_err(|e| (Step::ProcessLimit, e))?;
        let ruleset = self.ruleset.take().ok_or((Step::Landlock, Errno::EINVAL))?;
        match ruleset.restrict_self() {
            Ok(status) if status.ruleset != landlock::RulesetStatus::NotEnforced => {}
            Ok(_) => return Err((Step::Landlock, Errno::ENOSYS)),
            Err(_) => return Err((Step::Landlock, Errno::last())),
        }
        self.filters.apply().map_err(|e| {
            (
                Step::Seccomp,
                Errno::from_raw(e.raw_os_error().unwrap_or(libc::EINVAL)),
            )
        })?;
        // SAFETY: a raw clone without CLONE_VM is fork without atfork
        // handlers; both sides only make system calls afterwards (the child
        // returns to std's exec path, which is written for this).
        let pid =
            unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_ulong, 0, 0, 0, 0) };
        match pid {
            -1 => Err((Step::Fork, Errno::last())),
            0 => {
                // The program: SIGCHLD as the program expects it, and the
                // descriptors it is handed.
                sigchld_mask(false).map_err(|e| (Step::Fork, e))?;
                pass(&self.fds).map_err(|e| (Step::Descriptors, e))?;
                Ok(None)
            }
            pid => Ok(Some(Pid::from_raw(pid as i32))),
        }
    }

    /// In the init: keep only the lifeline and the report, reap until the
    /// program ends, report, exit.
    fn wait(&mut self, program: Pid) -> ! {
        let report = self.report.as_raw_fd();
        close_all_but(&mut [self.lifeline_read, report]);
        let _ = self.lifeline_write; // closed above with the rest
        let mut unblocked = SigSet::empty();
        if let Ok(mask) = SigSet::thread_get_mask() {
            unblocked = mask;
        }
        unblocked.remove(Signal::SIGCHLD);
        loop {
            loop {
                match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::Exited(pid, code)) if pid == program => {
                        finish(report, Ending::Exited(code))
                    }
                    Ok(WaitStatus::Signaled(pid, signal, _)) if pid == program => {
                        finish(report, self.signaled(signal))
                    }
                    Ok(WaitStatus::StillAlive) => break,
                    Ok(_) | Err(Errno::EINTR) => continue,
                    // No child left: the program is gone without a status.
                    Err(_) => finish(report, Ending::Exited(1)),
                }
            }
            // SAFETY: the lifeline's read end stays open in the init.
            let lifeline = unsafe { BorrowedFd::borrow_raw(self.lifeline_read) };
            let mut fds = [PollFd::new(lifeline, PollFlags::POLLIN)];
            match ppoll(&mut fds, None, Some(unblocked)) {
                // The node is gone: so is the cell.
                Ok(n) if n > 0 => unsafe { libc::_exit(Ending::Killed.status()) },
                _ => continue,
            }
        }
    }

    /// A signal that ended the program: the CPU budget, or something else.
    fn signaled(&self, signal: Signal) -> Ending {
        let over_budget = || {
            let (Some(budget), Ok(usage)) = (
                self.rlimits.cpu_seconds(),
                getrusage(UsageWho::RUSAGE_CHILDREN),
            ) else {
                return false;
            };
            let used = usage.user_time().tv_sec() + usage.system_time().tv_sec();
            used >= budget as i64
        };
        match signal {
            Signal::SIGXCPU => Ending::CpuLimit,
            Signal::SIGKILL if over_budget() => Ending::CpuLimit,
            signal => Ending::Signaled(signal as i32),
        }
    }
}

/// Writes the report and exits with the cell's status.
fn finish(report: RawFd, ending: Ending) -> ! {
    write_all(report, &report::ending(ending));
    // SAFETY: _exit ends the process without running the node's atexit
    // handlers or flushing its buffers, which belong to the node.
    unsafe { libc::_exit(ending.status()) }
}

fn write_all(fd: RawFd, bytes: &[u8]) {
    // 8 bytes into an empty pipe: one write, atomic.
    // SAFETY: writing from a live buffer to a descriptor we own.
    let _ = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
}

/// Drops the node's signal handlers (they would run the node's code in the
/// init) and routes SIGCHLD to a handler that only interrupts `ppoll`.
fn reset_signals() -> nix::Result<()> {
    extern "C" fn on_sigchld(_: libc::c_int) {}
    for signal in 1..libc::SIGRTMAX() {
        if signal == libc::SIGKILL || signal == libc::SIGSTOP {
            continue;
        }
        // SAFETY: resetting a disposition to the default.
        unsafe { libc::signal(signal, libc::SIG_DFL) };
    }
    sigchld_mask(true)?;
    // SAFETY: the handler does nothing, so it is async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigchld as *const () as usize;
        action.sa_flags = libc::SA_NOCLDSTOP;
        libc::sigemptyset(&mut action.sa_mask);
        Errno::result(libc::sigaction(
            libc::SIGCHLD,
            &action,
            std::ptr::null_mut(),
        ))?;
    }
    Ok(())
}

fn sigchld_mask(block: bool) -> nix::Result<()> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGCHLD);
    if block {
        set.thread_block()
    } else {
        set.thread_unblock()
    }
}

/// Puts each passed descriptor at its number, in the program only (the
/// init needs none of them). The node's descriptors are close-on-exec, so
/// only these reach the program. Each source first moves above every
/// target, so a source whose number is another's target is not lost.
fn pass(fds: &[(RawFd, RawFd)]) -> nix::Result<()> {
    let above = fds.iter().map(|(_, to)| to + 1).max().unwrap_or(0);
    let mut moved = [0; MAX_PASSED];
    for (i, (from, _)) in fds.iter().enumerate() {
        // SAFETY: duplicating a descriptor the node handed over.
        moved[i] = Errno::result(unsafe { libc::fcntl(*from, libc::F_DUPFD_CLOEXEC, above) })?;
    }
    for (i, (_, to)) in fds.iter().enumerate() {
        // SAFETY: dup2 onto a number the caller chose for the program; the
        // copy is not close-on-exec.
        Errno::result(unsafe { libc::dup2(moved[i], *to) })?;
    }
    Ok(())
}

/// How many descriptors a process may be handed (the init moves them
/// without allocating, in a fixed array).
pub(crate) const MAX_PASSED: usize = 64;

/// Closes every descriptor but `keep`: the init must hold none of the
/// node's (its sockets, the write end of its own lifeline, std's spawn
/// pipe, whose end-of-file tells the node the program `exec`ed).
fn close_all_but(keep: &mut [RawFd]) {
    keep.sort_unstable();
    let mut first: u32 = 0;
    for fd in keep.iter().map(|fd| *fd as u32) {
        if fd > first {
            // SAFETY: closing descriptors the init does not use.
            unsafe { libc::close_range(first, fd - 1, 0) };
        }
        first = fd + 1;
    }
    // SAFETY: as above.
    unsafe { libc::close_range(first, u32::MAX, 0) };
}
