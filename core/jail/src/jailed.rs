//! The handle of a jailed process: kill the tree, learn how it ended.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use crate::cgroup::Cgroup;
use crate::status::report::{self, Report};
use crate::status::Ending;

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
    /// The tree's memory cgroup, removed when this handle drops (the tree
    /// has ended by then if it was waited for).
    _cgroup: Option<Cgroup>,
}

impl<C> Jailed<C> {
    pub(crate) fn new(child: C, report: File, cgroup: Option<Cgroup>) -> Jailed<C> {
        Jailed {
            child,
            report,
            _cgroup: cgroup,
        }
    }

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

    /// Asks the program to stop: `SIGTERM`, which the init passes on. The
    /// program may ignore it; [`kill`](Self::kill) may not be ignored.
    ///
    /// # Errors
    ///
    /// When the signal cannot be sent.
    pub fn terminate(&mut self) -> io::Result<()> {
        // Not once reaped: the pid may belong to another process by then.
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        signal(self.child.id(), libc::SIGTERM)
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

    /// Asks the program to stop: `SIGTERM`, which the init passes on. The
    /// program may ignore it; [`start_kill`](Self::start_kill) may not be ignored.
    ///
    /// # Errors
    ///
    /// When the signal cannot be sent.
    pub fn terminate(&mut self) -> io::Result<()> {
        // `id` is `None` once reaped, when the pid may be another's.
        match self.child.id() {
            Some(pid) => signal(pid, libc::SIGTERM),
            None => Ok(()),
        }
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

/// The init's report, if it wrote one (the pipe does not block).
pub(crate) fn read_report(report: &mut File) -> Option<Report> {
    let mut bytes = [0; 8];
    report.read_exact(&mut bytes).ok()?;
    report::parse(bytes)
}

fn signal(pid: u32, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: kill takes no pointer; the pid is our unreaped child's.
    if unsafe { libc::kill(pid as libc::pid_t, signal) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
