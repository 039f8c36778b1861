//! What this host offers, so a node can say up front whether it can jail
//! cells, instead of failing at the first spawn.

use std::fmt;

use nix::unistd::Uid;

/// The jail features this host offers, as [`probe`] found them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Features {
    /// The kernel's Landlock ABI version, if Landlock is enabled: 1 brings
    /// files, 4 TCP, 6 scoping of abstract Unix sockets and signals.
    pub landlock_abi: Option<u32>,
    /// Whether seccomp filters can be installed.
    pub seccomp: bool,
    /// Whether the node runs as root. Then it makes each cell's PID
    /// namespace itself and the cell runs as [`Policy::uid`](crate::Policy::uid);
    /// otherwise the jail makes it inside the cell's user namespace, with
    /// one more process (a relay) per cell, and the cell keeps the node's uid.
    pub root: bool,
    /// Whether user namespaces can be created (`user.max_user_namespaces`
    /// is not 0).
    pub user_namespace: bool,
    /// The memory cgroups the node can make for each jailed tree (`"cgroup
    /// v1"` or `"cgroup v2"`), or `None`: memory limits are then each
    /// process's address space.
    pub memory_cgroup: Option<&'static str>,
}

impl Features {
    /// Whether every feature the jail needs is here.
    pub fn complete(&self) -> bool {
        self.landlock_abi.is_some() && self.seccomp && self.user_namespace
    }
}

impl fmt::Display for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.landlock_abi {
            Some(abi) => write!(f, "landlock ABI {abi}")?,
            None => write!(f, "no landlock")?,
        }
        let yes = |b: bool| if b { "yes" } else { "no" };
        write!(
            f,
            ", seccomp {}, user namespaces {}, root {}, memory by {}",
            yes(self.seccomp),
            yes(self.user_namespace),
            yes(self.root),
            self.memory_cgroup.unwrap_or("RLIMIT_AS")
        )
    }
}

/// Which jail features this host offers. Cheap (a few system calls); call
/// it once at start-up to log what the node can do.
pub fn probe() -> Features {
    Features {
        landlock_abi: landlock_abi(),
        seccomp: seccomp(),
        root: Uid::effective().is_root(),
        user_namespace: std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
            .map(|s| s.trim() != "0")
            .unwrap_or(false),
        memory_cgroup: crate::cgroup::hierarchy().map(|h| match h.flavor() {
            crate::cgroup::Flavor::V1 => "cgroup v1",
            crate::cgroup::Flavor::V2 => "cgroup v2",
        }),
    }
}

/// The Landlock ABI version; the landlock crate keeps its own probe private
/// (it wants rulesets to degrade by themselves), and the jail wants to report it.
fn landlock_abi() -> Option<u32> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: the version query takes no pointer the kernel writes to.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(v).ok().filter(|v| *v > 0)
}

/// Whether seccomp filtering is built in: `prctl(PR_GET_SECCOMP)` answers
/// 0 (no filter yet) or 2 (already filtered) then, `EINVAL` otherwise.
fn seccomp() -> bool {
    // SAFETY: PR_GET_SECCOMP reads a value and takes no pointer.
    unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 }
}
