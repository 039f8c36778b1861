//! Resource limits, applied in the child with `setrlimit`.
//!
//! These hold per process; the process count is made per cell by a user
//! namespace (see `namespaces.rs`), and the memory limit is the tree's in
//! a cgroup where the host allows one (`cgroup.rs`; then no `RLIMIT_AS`).

use nix::sys::resource::{setrlimit, Resource};

use crate::policy::Limits;

/// The limits as `setrlimit` takes them, computed in the node.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rlimits {
    memory: Option<u64>,
    cpu_seconds: Option<u64>,
    processes: Option<u64>,
    open_files: Option<u64>,
}

impl Rlimits {
    pub(crate) fn new(limits: &Limits) -> Rlimits {
        Rlimits {
            memory: limits.memory,
            // RLIMIT_CPU counts whole seconds; round up, and never 0 (which
            // would kill the process before it starts).
            cpu_seconds: limits.cpu.map(|d| {
                let whole = d.as_secs() + u64::from(d.subsec_nanos() > 0);
                whole.max(1)
            }),
            processes: limits.processes.map(u64::from),
            open_files: limits.open_files,
        }
    }

    /// The CPU budget in seconds, if any.
    pub(crate) fn cpu_seconds(&self) -> Option<u64> {
        self.cpu_seconds
    }

    /// Every limit but the process count, and no core dumps (a dump would
    /// write the cell's memory somewhere outside the jail). Allocation-free.
    pub(crate) fn apply(&self) -> nix::Result<()> {
        setrlimit(Resource::RLIMIT_CORE, 0, 0)?;
        if let Some(bytes) = self.memory {
            setrlimit(Resource::RLIMIT_AS, bytes, bytes)?;
        }
        if let Some(secs) = self.cpu_seconds {
            // SIGXCPU at the budget; SIGKILL a second later for a program
            // that catches SIGXCPU.
            setrlimit(Resource::RLIMIT_CPU, secs, secs + 1)?;
        }
        if let Some(n) = self.open_files {
            setrlimit(Resource::RLIMIT_NOFILE, n, n)?;
        }
        Ok(())
    }

    /// The process count: called once the process is in its own user
    /// namespace, where the count is kept for this cell alone.
    pub(crate) fn apply_processes(&self) -> nix::Result<()> {
        if let Some(n) = self.processes {
            setrlimit(Resource::RLIMIT_NPROC, n, n)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_cpu_budget_rounds_up_to_whole_seconds_and_never_to_zero() {
        let secs = |ms| {
            Rlimits::new(&Limits {
                cpu: Some(Duration::from_millis(ms)),
                ..Limits::default()
            })
            .cpu_seconds()
        };
        assert_eq!(secs(0), Some(1));
        assert_eq!(secs(500), Some(1));
        assert_eq!(secs(1000), Some(1));
        assert_eq!(secs(1001), Some(2));
    }
}
