//! The jail a policy compiles to, and the handle of a jailed process.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::sync::Arc;

use landlock::RulesetCreated;
use nix::fcntl::OFlag;

use crate::cgroup::{self, Cgroup, Hierarchy};
use crate::error::{Error, Feature};
use crate::init::{Confinement, Init, Mode};
use crate::jailed::{read_report, Jailed};
use crate::limits::Rlimits;
use crate::policy::Policy;
use crate::probe::probe;
use crate::seccomp::Filters;
use crate::status::report::Report;

/// A policy compiled for this host: its Landlock ruleset (the policy's
/// paths, opened), its seccomp filters, its limits. Build it once and spawn
/// many processes with it; building checks every feature the jail needs
/// and fails, naming the feature, when one is missing.
#[derive(Debug)]
pub struct Jail {
    confinement: Confinement,
    ruleset: RulesetCreated,
    /// Where each tree gets a memory cgroup of `memory` bytes, when the
    /// policy has a memory limit and the host lets the node make one.
    memory_cgroup: Option<(&'static Hierarchy, u64)>,
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
        let memory_cgroup = match (policy.limits.memory, policy.limits.memory_cgroup) {
            (Some(bytes), true) => cgroup::hierarchy().map(|h| (h, bytes)),
            _ => None,
        };
        let mut limits = policy.limits;
        if memory_cgroup.is_some() {
            // The cgroup holds the tree; no address-space limit on top.
            limits.memory = None;
        }
        Ok(Jail {
            memory_cgroup,
            confinement: Confinement {
                rlimits: Rlimits::new(&limits),
                mode,
                filters: Arc::new(Filters::new(policy.unix_sockets, policy.network)?),
                network: policy.network,
            },
            ruleset: crate::landlock::ruleset(policy)?,
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
    /// [`Ending::status_of_spawn_error`](crate::Ending::status_of_spawn_error)).
    pub fn spawn(
        &self,
        mut command: std::process::Command,
        fds: &[(BorrowedFd<'_>, RawFd)],
    ) -> Result<Jailed<std::process::Child>, Error> {
        let (mut init, report, cgroup) = self.init(fds)?;
        // SAFETY: `Init::run` only makes async-signal-safe system calls.
        unsafe { command.pre_exec(move || init.run()) };
        let mut report = File::from(report);
        let mut spawn = || command.spawn().map_err(|e| spawn_error(e, &mut report));
        let child = match self.confinement.mode {
            Mode::Root { .. } => crate::namespaces::in_new_pid_namespace(spawn)?,
            Mode::Unprivileged => spawn()?,
        };
        Ok(Jailed::new(child, report, cgroup))
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
        let (mut init, report, cgroup) = self.init(fds)?;
        // SAFETY: `Init::run` only makes async-signal-safe system calls.
        unsafe { command.as_std_mut().pre_exec(move || init.run()) };
        let mut report = File::from(report);
        let _runtime = runtime.enter();
        let mut spawn = || command.spawn().map_err(|e| spawn_error(e, &mut report));
        let child = match self.confinement.mode {
            Mode::Root { .. } => crate::namespaces::in_new_pid_namespace(spawn)?,
            Mode::Unprivileged => spawn()?,
        };
        Ok(Jailed::new(child, report, cgroup))
    }

    /// One spawn's init, the node's end of its report pipe, and its tree's
    /// memory cgroup, if it has one.
    fn init(
        &self,
        fds: &[(BorrowedFd<'_>, RawFd)],
    ) -> Result<(Init, OwnedFd, Option<Cgroup>), Error> {
        if fds.len() > crate::init::MAX_PASSED {
            return Err(Error::TooManyDescriptors(fds.len()));
        }
        let fds = fds.iter().map(|(fd, to)| (fd.as_raw_fd(), *to)).collect();
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)
            .map_err(|e| Error::Spawn(e.into()))?;
        let ruleset = self.ruleset.try_clone().map_err(Error::Spawn)?;
        let cgroup = self
            .memory_cgroup
            .map(|(hierarchy, bytes)| Cgroup::new(hierarchy, bytes))
            .transpose()
            .map_err(Error::Cgroup)?;
        let init = Init::new(
            self.confinement.clone(),
            ruleset,
            cgroup.as_ref().map(|c| (c.join_fd(), c.events_fd())),
            write,
            fds,
        )
        .map_err(Error::Spawn)?;
        Ok((init, read, cgroup))
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_jail_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<super::Jail>();
    }
}
