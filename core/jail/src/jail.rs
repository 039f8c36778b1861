//! The jail a policy compiles to, and the handle of a jailed process.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::ExitStatus;
use std::sync::Arc;

use landlock::RulesetCreated;
use nix::fcntl::OFlag;

use crate::error::{Error, Feature};
use crate::init::{Init, Mode};
use crate::limits::Rlimits;
use crate::policy::Policy;
use crate::probe::probe;
use crate::seccomp::Filters;
use crate::status::report::{self, Report};
use crate::status::Ending;

/// A policy compiled for this host: its Landlock ruleset (the policy's
/// paths, opened), its seccomp filters, its limits. Build it once and spawn
/// many processes with it; building checks every feature the jail needs
/// and fails, naming the feature, when one is missing.
#[derive(Debug)]
pub struct Jail {
    rlimits: Rlimits,
    mode: Mode,
    ruleset: RulesetCreated,
    filters: Arc<Filters>,
}

impl std::fmt::Debug for Filters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Filters")
    }
}

impl Jail {
    /// Compiles `policy` for this host.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`] when the host lacks a feature the jail needs
    /// (Landlock, seccomp, user namespaces); [`Error::Path`] when a path of
    /// the policy cannot be opened; [`Error::RootUid`] when the policy asks
    /// to run the process as root.
    pub fn new(policy: &Policy) -> Result<Jail, Error> {
        let features = probe();
        if !features.seccomp {
            return Err(Error::Unavailable {
                feature: Feature::Seccomp,
                why: "the kernel has no seccomp filters".into(),
            });
        }
        if !features.user_namespace {
            return Err(Error::Unavailable {
                feature: Feature::UserNamespace,
                why: "user.max_user_namespaces is 0".into(),
            });
        }
        if policy.uid == 0 || policy.gid == 0 {
            return Err(Error::RootUid);
        }
        let mode = if features.root {
            Mode::Root {
                uid: policy.uid,
                gid: policy.gid,
            }
        } else {
            Mode::Unprivileged
        };
        Ok(Jail {
            rlimits: Rlimits::new(&policy.limits),
            mode,
            ruleset: crate::landlock::ruleset(policy)?,
            filters: Arc::new(Filters::new(policy.unix_sockets)?),
        })
    }

    /// Starts `command` jailed, handing it `fds`: each pair is a
    /// descriptor of the node and the number the program sees it at (the
    /// cell's vat at 3, `WW_FD_*` after it). The command's program,
    /// arguments, environment, working directory and stdio are used as
    /// set. Pass descriptors here rather than by a `pre_exec` of your own:
    /// the jail's init has descriptors of its own that a `dup2` before it
    /// could overwrite.
    ///
    /// # Errors
    ///
    /// [`Error::Setup`] naming the step of the jail that failed,
    /// [`Error::Spawn`] when the program could not be started (its
    /// [`io::ErrorKind::NotFound`] maps to status 127, see
    /// [`Ending::status_of_spawn_error`]).
    pub fn spawn(
        &self,
        mut command: std::process::Command,
        fds: &[(BorrowedFd<'_>, RawFd)],
    ) -> Result<Jailed<std::process::Child>, Error> {
        let (mut init, report) = self.init(fds)?;
        // SAFETY: `Init::run` only makes async-signal-safe system calls.
        unsafe { command.pre_exec(move || init.run()) };
        let mut report = File::from(report);
        let mut spawn = || command.spawn().map_err(|e| spawn_error(e, &mut report));
        let child = match self.mode {
            Mode::Root { .. } => crate::namespaces::in_new_pid_namespace(spawn)?,
            Mode::Unprivileged => spawn()?,
        };
        Ok(Jailed { child, report })
    }

    /// Starts `command` jailed, as [`spawn`](Self::spawn), for tokio. Call
    /// it within a tokio runtime (the child's pipes and exit are driven by it).
    ///
    /// # Errors
    ///
    /// As [`spawn`](Self::spawn); [`Error::Spawn`] also when called outside
    /// a tokio runtime.
    #[cfg(feature = "tokio")]
    pub fn spawn_tokio(
        &self,
        mut command: tokio::process::Command,
        fds: &[(BorrowedFd<'_>, RawFd)],
    ) -> Result<Jailed<tokio::process::Child>, Error> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| Error::Spawn(io::Error::other(e.to_string())))?;
        let (mut init, report) = self.init(fds)?;
        // SAFETY: `Init::run` only makes async-signal-safe system calls.
        unsafe { command.as_std_mut().pre_exec(move || init.run()) };
        let mut report = File::from(report);
        let _runtime = runtime.enter();
        let mut spawn = || command.spawn().map_err(|e| spawn_error(e, &mut report));
        let child = match self.mode {
            Mode::Root { .. } => crate::namespaces::in_new_pid_namespace(spawn)?,
            Mode::Unprivileged => spawn()?,
        };
        Ok(Jailed { child, report })
    }

    /// One spawn's init, and the node's end of its report pipe.
    fn init(&self, fds: &[(BorrowedFd<'_>, RawFd)]) -> Result<(Init, OwnedFd), Error> {
        if fds.len() > crate::init::MAX_PASSED {
            return Err(Error::TooManyDescriptors(fds.len()));
        }
        let fds = fds.iter().map(|(fd, to)| (fd.as_raw_fd(), *to)).collect();
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)
            .map_err(|e| Error::Spawn(e.into()))?;
        let ruleset = self.ruleset.try_clone().map_err(Error::Spawn)?;
        let init = Init::new(
            self.mode,
            self.rlimits,
            ruleset,
            self.filters.clone(),
            write,
            fds,
        )
        .map_err(Error::Spawn)?;
        Ok((init, read))
    }
}

/// A spawn error, with the failed step of the jail when the init named one.
fn spawn_error(error: io::Error, report: &mut File) -> Error {
    match read_report(report) {
        Some(Report::SetupFailed(step)) => Error::Setup {
            step,
            source: error,
        },
        _ => Error::Spawn(error),
    }
}

fn read_report(report: &mut File) -> Option<Report> {
    let mut bytes = [0; 8];
    report.read_exact(&mut bytes).ok()?;
    report::parse(bytes)
}

/// A jailed process: the child the node spawned (the jail's init, PID 1 of
/// the cell's namespace; or, when the node is not root, the relay that
/// waits for that init) and how to learn how the program ended.
///
/// Killing the child kills the whole tree: the kernel ends every process
/// of a PID namespace when its PID 1 dies. When the node is root, the
/// node's `wait` returns only after they are all gone; when it is not,
/// the relay dies first and the tree a moment later. Dropping the handle
/// without waiting leaves the cell running, as dropping a `Child` does.
#[derive(Debug)]
pub struct Jailed<C> {
    child: C,
    report: File,
}

impl<C> Jailed<C> {
    /// The child process (the jail's init), for its stdio pipes and pid.
    /// The program itself is its only child.
    pub fn child(&mut self) -> &mut C {
        &mut self.child
    }

    /// How the program ended, given how the init ended.
    fn ending(&mut self, status: ExitStatus) -> Ending {
        match read_report(&mut self.report) {
            Some(Report::Ended(ending)) => ending,
            // No report: the init itself was killed, by the node or
            // from outside.
            _ => match (status.signal(), status.code()) {
                (Some(libc::SIGKILL), _) => Ending::Killed,
                (Some(signal), _) => Ending::Signaled(signal),
                (None, Some(code)) => Ending::Exited(code),
                (None, None) => Ending::Killed,
            },
        }
    }
}

impl Jailed<std::process::Child> {
    /// The init's pid, in the node's PID namespace.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Kills the whole tree (`SIGKILL` to the init). Then [`wait`](Self::wait).
    ///
    /// # Errors
    ///
    /// As [`std::process::Child::kill`].
    pub fn kill(&mut self) -> io::Result<()> {
        self.child.kill()
    }

    /// Waits for the tree to end and says how the program ended.
    ///
    /// # Errors
    ///
    /// As [`std::process::Child::wait`].
    pub fn wait(&mut self) -> io::Result<Ending> {
        let status = self.child.wait()?;
        Ok(self.ending(status))
    }

    /// Like [`wait`](Self::wait), without blocking.
    ///
    /// # Errors
    ///
    /// As [`std::process::Child::try_wait`].
    pub fn try_wait(&mut self) -> io::Result<Option<Ending>> {
        Ok(self.child.try_wait()?.map(|status| self.ending(status)))
    }
}

#[cfg(feature = "tokio")]
impl Jailed<tokio::process::Child> {
    /// The init's pid, in the node's PID namespace, until it is reaped.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills the whole tree (`SIGKILL` to the init). Then [`wait`](Self::wait).
    ///
    /// # Errors
    ///
    /// As [`tokio::process::Child::start_kill`].
    pub fn start_kill(&mut self) -> io::Result<()> {
        self.child.start_kill()
    }

    /// Waits for the tree to end and says how the program ended.
    ///
    /// # Errors
    ///
    /// As [`tokio::process::Child::wait`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as `tokio::process::Child::wait`.
    pub async fn wait(&mut self) -> io::Result<Ending> {
        let status = self.child.wait().await?;
        Ok(self.ending(status))
    }
}
