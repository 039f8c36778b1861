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
//! zombies would otherwise count against the process limit), passes
//! `SIGTERM` and its kin on to the program, writes how the program ended
//! to the node (a [`report`](crate::status)), and exits with the cell's
//! status. Its death, for whatever reason, kills every
//! process left in the namespace. It also watches a *lifeline*, a pipe
//! whose write end only the node holds: when the node dies, however it
//! dies, the pipe reads end-of-file and the init exits, taking the cell
//! with it. (`PR_SET_PDEATHSIG` would fire when the node's *thread* that
//! forked exits, which under tokio can be any blocking-pool thread.)

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};
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
    /// Never written: it closes when the node dies, and that is the signal.
    _write: OwnedFd,
}

static LIFELINE: OnceLock<Lifeline> = OnceLock::new();

fn lifeline() -> io::Result<&'static Lifeline> {
    if let Some(l) = LIFELINE.get() {
        return Ok(l);
    }
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // A racing thread may have set it first; then these two just close.
    Ok(LIFELINE.get_or_init(|| Lifeline {
        read,
        _write: write,
    }))
}

/// Who the node is, which decides how the jail gets its PID namespace.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mode {
    /// The node is root: it made the PID namespace before the fork (see
    /// `namespaces.rs`), so this process is already its PID 1; it drops
    /// root for `uid` and `gid`.
    Root {
        /// The process's uid.
        uid: u32,
        /// The process's gid.
        gid: u32,
    },
    /// The node is not root: this process makes the PID namespace (inside
    /// its new user namespace) and stays outside it as a *relay*: it forks
    /// the init, waits for it and exits as it did. The init watches the
    /// relay as it watches the node, so the cell dies with either.
    Unprivileged,
}

/// What this process turned out to be once the jail was set up.
enum Role {
    /// The program: go on to `exec`.
    Program,
    /// The jail's init: wait for the program; `relay` is the read end of
    /// the relay's lifeline, if there is a relay.
    Init { program: Pid, relay: Option<RawFd> },
    /// The relay (unprivileged mode): wait for the init; `lifeline` is the
    /// write end of the init's lifeline to it.
    Relay { init: Pid, lifeline: RawFd },
}

/// What every spawn of one jail applies the same way, built in the node.
#[derive(Clone, Debug)]
pub(crate) struct Confinement {
    pub(crate) mode: Mode,
    pub(crate) rlimits: Rlimits,
    pub(crate) filters: Arc<Filters>,
    /// Whether to keep the node's network namespace.
    pub(crate) network: bool,
}

/// What the init needs, prepared in the node for one spawn.
pub(crate) struct Init {
    mode: Mode,
    rlimits: Rlimits,
    ruleset: Option<RulesetCreated>,
    filters: Arc<Filters>,
    network: bool,
    /// The tree's memory cgroup: the file to join it through and the file
    /// counting its OOM kills (to read).
    cgroup: Option<(RawFd, RawFd)>,
    report: OwnedFd,
    lifeline_read: RawFd,
    /// Descriptors to pass: (the node's, the number the program sees).
    fds: Vec<(RawFd, RawFd)>,
}

impl Init {
    pub(crate) fn new(
        confinement: Confinement,
        ruleset: RulesetCreated,
        cgroup: Option<(RawFd, RawFd)>,
        report: OwnedFd,
        fds: Vec<(RawFd, RawFd)>,
    ) -> io::Result<Init> {
        let Confinement {
            mode,
            rlimits,
            filters,
            network,
        } = confinement;
        Ok(Init {
            mode,
            rlimits,
            ruleset: Some(ruleset),
            filters,
            network,
            cgroup,
            report,
            lifeline_read: lifeline()?.read.as_raw_fd(),
            fds,
        })
    }

    /// The body of `pre_exec`. Returns in the program's process (which then
    /// `exec`s); never returns in the init or the relay. On a failed step,
    /// tells the node which step before failing the spawn.
    pub(crate) fn run(&mut self) -> io::Result<()> {
        match self.setup() {
            Ok(Role::Program) => Ok(()),
            Ok(Role::Init { program, relay }) => self.init(program, relay),
            Ok(Role::Relay { init, lifeline }) => self.relay(init, lifeline),
            Err((step, errno)) => {
                write_all(self.report.as_raw_fd(), &report::setup_failed(step));
                Err(io::Error::from_raw_os_error(errno as i32))
            }
        }
    }

    /// Applies the jail to this process, then forks (the init, then) the
    /// program.
    fn setup(&mut self) -> Result<Role, (Step, Errno)> {
        // First, while still root: everything after is counted in it.
        if let Some((join, _)) = self.cgroup {
            crate::cgroup::join(join).map_err(|e| (Step::Cgroup, e))?;
        }
        reset_signals().map_err(|e| (Step::Signals, e))?;
        self.rlimits.apply().map_err(|e| (Step::Limits, e))?;
        let unprivileged = match self.mode {
            Mode::Root { uid, gid } => {
                namespaces::drop_root(uid, gid).map_err(|e| (Step::DropRoot, e))?;
                false
            }
            Mode::Unprivileged => true,
        };
        namespaces::enter(unprivileged, self.network).map_err(|e| (Step::Namespaces, e))?;
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
        let mut relay = None;
        if unprivileged {
            // The relay's lifeline: the init holds the read end, the relay
            // the write end.
            let (read, write) =
                nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| (Step::Fork, e))?;
            let (read, write) = (read.into_raw_fd(), write.into_raw_fd());
            match fork().map_err(|e| (Step::Fork, e))? {
                None => {
                    close(write);
                    relay = Some(read);
                }
                Some(init) => {
                    close(read);
                    forward_signals(init).map_err(|e| (Step::Signals, e))?;
                    return Ok(Role::Relay {
                        init,
                        lifeline: write,
                    });
                }
            }
        }
        match fork().map_err(|e| (Step::Fork, e))? {
            None => {
                // The program: SIGCHLD as the program expects it, and the
                // descriptors it is handed.
                sigchld_mask(false).map_err(|e| (Step::Fork, e))?;
                pass(&self.fds).map_err(|e| (Step::Descriptors, e))?;
                // Only stdio and the passed descriptors reach the program,
                // also those of the node that were opened without
                // close-on-exec (by a C library, say).
                let mut keep = [0; MAX_PASSED + 3];
                keep[..3].copy_from_slice(&[0, 1, 2]);
                for (i, (_, to)) in self.fds.iter().enumerate() {
                    keep[3 + i] = *to;
                }
                close_all_but(&mut keep[..3 + self.fds.len()], CloseHow::OnExec);
                Ok(Role::Program)
            }
            Some(program) => {
                forward_signals(program).map_err(|e| (Step::Signals, e))?;
                Ok(Role::Init { program, relay })
            }
        }
    }

    /// The init: keep only the lifelines and the report, reap until the
    /// program ends, report, exit.
    fn init(&mut self, program: Pid, relay: Option<RawFd>) -> ! {
        let report = self.report.as_raw_fd();
        let relay = relay.unwrap_or(self.lifeline_read);
        let events = self.cgroup.map_or(report, |(_, events)| events);
        close_all_but(
            &mut [self.lifeline_read, report, relay, events],
            CloseHow::Now,
        );
        match reap_until(program, [self.lifeline_read, relay]) {
            Some(WaitStatus::Exited(_, code)) => finish(report, Ending::Exited(code)),
            Some(WaitStatus::Signaled(_, signal, _)) => finish(report, self.signaled(signal)),
            // The node (or the relay) is gone: so is the cell.
            _ => exit(Ending::Killed.status()),
        }
    }

    /// The relay: wait for the init and end as it ended. The init wrote
    /// the report; if the node kills the relay, the init sees its lifeline
    /// break and ends the cell.
    fn relay(&mut self, init: Pid, lifeline: RawFd) -> ! {
        close_all_but(&mut [self.lifeline_read, lifeline], CloseHow::Now);
        match reap_until(init, [self.lifeline_read, self.lifeline_read]) {
            Some(WaitStatus::Exited(_, code)) => exit(code),
            Some(WaitStatus::Signaled(_, signal, _)) => {
                // SAFETY: default disposition, unblocked, then raised: the
                // relay dies of the init's signal, as the node should see.
                unsafe {
                    libc::signal(signal as i32, libc::SIG_DFL);
                    let mut set = SigSet::empty();
                    set.add(signal);
                    let _ = set.thread_unblock();
                    libc::kill(libc::getpid(), signal as i32);
                }
                exit(128 + signal as i32)
            }
            _ => exit(Ending::Killed.status()),
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
        let out_of_memory = || {
            self.cgroup
                .is_some_and(|(_, events)| crate::cgroup::oom_killed(events))
        };
        match signal {
            Signal::SIGXCPU => Ending::CpuLimit,
            Signal::SIGKILL if over_budget() => Ending::CpuLimit,
            Signal::SIGKILL if out_of_memory() => Ending::MemoryLimit,
            signal => Ending::Signaled(signal as i32),
        }
    }
}

/// Reaps every child that ends (orphans of the cell come to PID 1) until
/// `child` does, and returns how it did; `None` when a lifeline breaks
/// first. SIGCHLD is blocked but for the `ppoll`, so none is missed.
fn reap_until(child: Pid, lifelines: [RawFd; 2]) -> Option<WaitStatus> {
    let mut unblocked = SigSet::thread_get_mask().unwrap_or_else(|_| SigSet::empty());
    unblocked.remove(Signal::SIGCHLD);
    loop {
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(status @ (WaitStatus::Exited(pid, _) | WaitStatus::Signaled(pid, _, _)))
                    if pid == child =>
                {
                    return Some(status)
                }
                Ok(WaitStatus::StillAlive) => break,
                Ok(_) | Err(Errno::EINTR) => continue,
                // No child left: it is gone without a status.
                Err(_) => return Some(WaitStatus::Exited(child, 1)),
            }
        }
        // SAFETY: the lifelines' read ends stay open in this process.
        let mut fds = lifelines
            .map(|fd| PollFd::new(unsafe { BorrowedFd::borrow_raw(fd) }, PollFlags::POLLIN));
        if let Ok(n) = ppoll(&mut fds, None, Some(unblocked)) {
            if n > 0 {
                return None;
            }
        }
    }
}

/// Forks without running `atfork` handlers: `None` in the child.
fn fork() -> nix::Result<Option<Pid>> {
    // SAFETY: a raw clone without CLONE_VM is fork without atfork
    // handlers; both sides only make system calls afterwards (the child
    // may return to std's exec path, which is written for this).
    let pid = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_ulong, 0, 0, 0, 0) };
    match pid {
        -1 => Err(Errno::last()),
        0 => Ok(None),
        pid => Ok(Some(Pid::from_raw(pid as i32))),
    }
}

fn close(fd: RawFd) {
    // SAFETY: closing a descriptor this process owns.
    unsafe { libc::close(fd) };
}

fn exit(status: i32) -> ! {
    // SAFETY: _exit ends the process without running the node's atexit
    // handlers or flushing its buffers, which belong to the node.
    unsafe { libc::_exit(status) }
}

/// Writes the report and exits with the cell's status.
fn finish(report: RawFd, ending: Ending) -> ! {
    write_all(report, &report::ending(ending));
    exit(ending.status())
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

/// The signals the init (and the relay) pass on to their one child, so the
/// node can ask the program to stop (`SIGTERM`) rather than kill the tree.
/// PID 1 of a namespace would otherwise ignore them.
const FORWARDED: [libc::c_int; 6] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// Where the forwarded signals go: set once, after the fork, in the init
/// (or relay), which is a process of its own.
static FORWARD_TO: AtomicI32 = AtomicI32::new(0);

fn forward_signals(to: Pid) -> nix::Result<()> {
    extern "C" fn forward(signal: libc::c_int) {
        let to = FORWARD_TO.load(Ordering::Relaxed);
        if to > 0 {
            // SAFETY: kill is async-signal-safe.
            unsafe { libc::kill(to, signal) };
        }
    }
    FORWARD_TO.store(to.as_raw(), Ordering::Relaxed);
    for signal in FORWARDED {
        // SAFETY: the handler only calls kill, which is async-signal-safe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward as *const () as usize;
            libc::sigemptyset(&mut action.sa_mask);
            Errno::result(libc::sigaction(signal, &action, std::ptr::null_mut()))?;
        }
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
///
/// In the program, descriptors are only marked close-on-exec: std's own
/// pipe, which reports a failed `exec` to the node, must stay open until
/// the `exec`.
fn close_all_but(keep: &mut [RawFd], how: CloseHow) {
    let flags = match how {
        CloseHow::Now => 0,
        CloseHow::OnExec => libc::CLOSE_RANGE_CLOEXEC as libc::c_int,
    };
    keep.sort_unstable();
    let mut first: u32 = 0;
    for fd in keep.iter().map(|fd| *fd as u32) {
        if fd > first {
            // SAFETY: closing descriptors this process does not use.
            unsafe { libc::close_range(first, fd - 1, flags) };
        }
        first = fd + 1;
    }
    // SAFETY: as above.
    unsafe { libc::close_range(first, u32::MAX, flags) };
}

#[derive(Clone, Copy)]
enum CloseHow {
    Now,
    OnExec,
}
