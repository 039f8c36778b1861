//! Why a jail could not be built or a jailed process could not start.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A kernel feature the jail is built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// Landlock, for files (and TCP from ABI 4).
    Landlock,
    /// Seccomp filters, for system calls.
    Seccomp,
    /// A PID namespace, so the whole tree dies with the cell.
    PidNamespace,
    /// A user namespace, so the process bound counts this cell alone
    /// (and, when the node is not root, the other namespaces can be made).
    UserNamespace,
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Feature::Landlock => "Landlock",
            Feature::Seccomp => "seccomp",
            Feature::PidNamespace => "a PID namespace",
            Feature::UserNamespace => "a user namespace",
        })
    }
}

/// A step of the jail's setup inside the new process, named when it fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Step {
    /// Resetting the signal handlers inherited from the node.
    Signals = 1,
    /// Setting the resource limits.
    Limits = 2,
    /// Dropping root for [`Policy::uid`](crate::Policy::uid).
    DropRoot = 3,
    /// Entering new user, network and IPC namespaces.
    Namespaces = 4,
    /// Setting the process limit in the new user namespace.
    ProcessLimit = 5,
    /// Applying the Landlock ruleset.
    Landlock = 6,
    /// Installing the seccomp filters.
    Seccomp = 7,
    /// Forking the program off the jail's init.
    Fork = 8,
    /// Putting the passed descriptors at their numbers.
    Descriptors = 9,
    /// Joining the tree's memory cgroup.
    Cgroup = 10,
}

impl Step {
    pub(crate) fn from_u32(n: u32) -> Option<Step> {
        [
            Step::Signals,
            Step::Limits,
            Step::DropRoot,
            Step::Namespaces,
            Step::ProcessLimit,
            Step::Landlock,
            Step::Seccomp,
            Step::Fork,
            Step::Descriptors,
            Step::Cgroup,
        ]
        .into_iter()
        .find(|s| *s as u32 == n)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Signals => "resetting signal handlers",
            Step::Limits => "setting resource limits",
            Step::DropRoot => "dropping root for the policy's uid and gid",
            Step::Namespaces => "entering new user, network and IPC namespaces",
            Step::ProcessLimit => "setting the process limit",
            Step::Landlock => "applying the Landlock ruleset",
            Step::Seccomp => "installing the seccomp filter",
            Step::Fork => "forking the program off the jail's init",
            Step::Descriptors => "passing descriptors to the program",
            Step::Cgroup => "joining the memory cgroup",
        })
    }
}

/// Why a jail could not be built or a jailed process could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The policy needs a kernel feature this host does not offer.
    #[error(
        "the jail needs {feature}, which is not available here ({why}); \
         run the node where it is (see `ww_jail::probe`), or run unjailed with --no-jail"
    )]
    Unavailable {
        /// The missing feature.
        feature: Feature,
        /// What the kernel said, or what is lacking.
        why: String,
    },
    /// A path of the policy cannot be opened.
    #[error("cannot grant the jail access to {path}: {source}; check that it exists and the node can open it")]
    Path {
        /// The path.
        path: PathBuf,
        /// What opening it said.
        source: io::Error,
    },
    /// The Landlock ruleset could not be built.
    #[error("cannot build the jail's Landlock ruleset: {0}; check the policy's paths")]
    Landlock(#[from] landlock::RulesetError),
    /// The policy asks to run the process as root.
    #[error("a jailed process never runs as root (uid or gid 0 in the policy); use an unprivileged id such as 65534 (nobody)")]
    RootUid,
    /// The seccomp filter could not be built (an unsupported architecture).
    #[error("cannot build the jail's seccomp filter: {0}; this architecture may be unsupported (x86_64 and aarch64 are)")]
    Seccomp(#[from] seccompiler::BackendError),
    /// The jail's setup failed inside the new process.
    #[error("cannot jail the process: {step} failed: {source}; run `ww_jail::probe` to see what this host offers, or run unjailed with --no-jail")]
    Setup {
        /// The step that failed.
        step: Step,
        /// What the kernel said.
        source: io::Error,
    },
    /// The tree's memory cgroup could not be made.
    #[error("cannot make the jailed process's memory cgroup: {0}; the node makes one under its own cgroup, which must be writable by root")]
    Cgroup(#[source] io::Error),
    /// More descriptors to pass than the jail can.
    #[error("cannot pass {0} descriptors to a jailed process; pass at most {max}", max = crate::init::MAX_PASSED)]
    TooManyDescriptors(usize),
    /// The program could not be started (not found, not executable, or the
    /// spawn itself failed).
    #[error("cannot start the jailed program: {0}; check that it exists, is executable, and is in the policy's `executable` paths")]
    Spawn(#[source] io::Error),
}
