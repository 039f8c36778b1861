//! The node-wide memory budget: the sum of every cell's memory limit.
//!
//! Each cell's memory limit (see [`Limits`](crate::limits::Limits)) is
//! *reserved* from one budget when the cell starts (pid0 included) and
//! released when it ends: by exiting, by hitting a limit, or by being
//! killed. Like a cgroup's `memory.max`, the budget bounds what cells may
//! grow to, it does not measure what they use: the resource limiter stops
//! each cell at its own limit (status 125), so however the cells behave,
//! their linear memories together stay within the budget. A spawn whose
//! limit does not fit is refused up front (`Overloaded`), instead of the
//! node running the machine out of memory later, when some cell grows.
//!
//! The defaults (see [`MemoryLimits::new`]):
//!
//! - total (`--max-memory-total`): half the memory of the machine, or of
//!   the node's cgroup when that is smaller ([`machine_memory`]), so the
//!   node's own heap, the compile cache and the rest of the machine keep
//!   the other half;
//! - pid0 (`--max-memory-pid0`): [`DEFAULT_PID0_MEMORY`], one whole
//!   instance slot, since pid0 is the cell the operator chose to run;
//! - a child (`--max-memory`, or the spawn's `limits.maxMemoryBytes`):
//!   [`DEFAULT_CHILD_MEMORY`], a quarter of a slot, so the default budget
//!   holds many children.
//!
//! A cell's reservation also holds what its RPC bounds let it make the node
//! hold for it ([`RpcLimits::held_bytes`](crate::rpc_budget::RpcLimits::held_bytes):
//! its calls' bytes, the bytes queued toward it, its capabilities; 36 MiB
//! with the default bounds), so that a thousand cells with tiny memory
//! limits cannot make the node's own heap grow past the budget either.
//!
//! No limit may exceed one pooled instance slot
//! ([`POOL_MEMORY`](crate::engine::POOL_MEMORY)): past the slot a
//! `memory.grow` would fail with -1 instead of trapping with status 125.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::engine::POOL_MEMORY;

/// One mebibyte; the flags count in these.
pub const MIB: usize = 1 << 20;

/// Memory limit of a child that asks for none and whose node sets no
/// `--max-memory`: 64 MiB, a quarter of an instance slot (most guests need
/// a few MiB; a child that needs more asks for it).
pub const DEFAULT_CHILD_MEMORY: usize = 64 * MIB;

/// Memory limit of pid0 when the node sets no `--max-memory-pid0`: a whole
/// instance slot.
pub const DEFAULT_PID0_MEMORY: usize = POOL_MEMORY;

// The defaults must fit in an instance slot (checked when compiling).
const _: () = assert!(DEFAULT_CHILD_MEMORY <= POOL_MEMORY && DEFAULT_PID0_MEMORY <= POOL_MEMORY);

/// The total when the machine's memory cannot be read (no `/proc`).
pub const FALLBACK_TOTAL: usize = 2048 * MIB;

/// The memory limits of a node, checked against each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryLimits {
    /// The budget: what the limits of all live cells may add up to.
    pub total: usize,
    /// pid0's limit.
    pub pid0: usize,
    /// A child's limit when its spawn sets none.
    pub child: usize,
    /// What each cell's RPC bounds let it make the node hold, reserved
    /// with its memory limit.
    pub rpc: usize,
}

/// Memory flags that cannot work together.
#[derive(Debug, thiserror::Error)]
pub enum MemoryConfigError {
    /// A limit larger than one instance slot.
    #[error("{flag} {} is more than one cell can have ({}, an instance slot of the engine); use at most {}", show(*.limit), show(POOL_MEMORY), POOL_MEMORY / MIB)]
    PastSlot {
        /// Which flag.
        flag: &'static str,
        /// Its value, in bytes.
        limit: usize,
    },
    /// A limit of zero.
    #[error("{flag} must be at least 1 (MiB)")]
    Zero {
        /// Which flag.
        flag: &'static str,
    },
    /// The budget cannot hold pid0 and one child.
    #[error("the node's memory budget of {} (--max-memory-total) cannot hold pid0's limit ({}, --max-memory-pid0) and one child's ({}, --max-memory), each with the {} its RPC bounds let it make the node hold (--max-call-bytes, --max-queued-bytes, --max-caps); raise the budget or lower the limits", show(.0.total), show(.0.pid0), show(.0.child), show(.0.rpc))]
    TooSmall(MemoryLimits),
}

impl MemoryLimits {
    /// The node's limits from its flags, in bytes (`None`: the default):
    /// `total` defaults to half of [`machine_memory`], `pid0` to
    /// [`DEFAULT_PID0_MEMORY`], `child` to [`DEFAULT_CHILD_MEMORY`]; `rpc`
    /// is what each cell's RPC bounds let it make the node hold.
    ///
    /// # Errors
    ///
    /// When a limit is zero or larger than an instance slot, or the budget
    /// cannot hold pid0 and one child, each with `rpc`.
    pub fn new(
        total: Option<usize>,
        pid0: Option<usize>,
        child: Option<usize>,
        rpc: usize,
    ) -> Result<MemoryLimits, MemoryConfigError> {
        let limits = MemoryLimits {
            total: total.unwrap_or_else(|| machine_memory().map_or(FALLBACK_TOTAL, |m| m / 2)),
            pid0: pid0.unwrap_or(DEFAULT_PID0_MEMORY),
            child: child.unwrap_or(DEFAULT_CHILD_MEMORY),
            rpc,
        };
        for (flag, limit) in [
            ("--max-memory-total", limits.total),
            ("--max-memory-pid0", limits.pid0),
            ("--max-memory", limits.child),
        ] {
            if limit == 0 {
                return Err(MemoryConfigError::Zero { flag });
            }
            if flag != "--max-memory-total" && limit > POOL_MEMORY {
                return Err(MemoryConfigError::PastSlot { flag, limit });
            }
        }
        if limits
            .cell(limits.pid0)
            .saturating_add(limits.cell(limits.child))
            > limits.total
        {
            return Err(MemoryConfigError::TooSmall(limits));
        }
        Ok(limits)
    }

    /// What a cell whose memory limit is `memory` reserves: that, and what
    /// its RPC bounds let it make the node hold.
    pub fn cell(&self, memory: usize) -> usize {
        memory.saturating_add(self.rpc)
    }
}

/// The budget: a total and what live cells have reserved of it.
///
/// Atomic rather than `Cell`-based so it stays correct if cells ever run on
/// more than one thread; a reservation is one compare-and-swap.
#[derive(Debug)]
pub struct MemoryBudget {
    total: usize,
    reserved: AtomicUsize,
    // Set when a refusal was logged, cleared when a reservation is
    // released: a cell hammering a full budget logs one WARN, not one per
    // attempt.
    warned: AtomicBool,
}

/// A reservation that does not fit in the budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a memory limit of {} does not fit: live cells have reserved {} of the node's {}", show(*.asked), show(*.reserved), show(*.total))]
pub struct OverBudget {
    /// The limit asked for.
    pub asked: usize,
    /// Reserved by live cells at the time.
    pub reserved: usize,
    /// The budget.
    pub total: usize,
}

impl MemoryBudget {
    /// A budget of `total` bytes, nothing reserved.
    pub fn new(total: usize) -> Arc<MemoryBudget> {
        Arc::new(MemoryBudget {
            total,
            reserved: AtomicUsize::new(0),
            warned: AtomicBool::new(false),
        })
    }

    /// The budget, in bytes.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Bytes reserved by live cells now.
    pub fn reserved(&self) -> usize {
        self.reserved.load(Ordering::Acquire)
    }

    /// Reserves `bytes` until the returned reservation is dropped.
    ///
    /// # Errors
    ///
    /// When the reservations would add up to more than the total.
    pub fn reserve(self: &Arc<Self>, bytes: usize) -> Result<Reservation, OverBudget> {
        let mut current = self.reserved.load(Ordering::Acquire);
        loop {
            let next = current
                .checked_add(bytes)
                .filter(|&next| next <= self.total)
                .ok_or(OverBudget {
                    asked: bytes,
                    reserved: current,
                    total: self.total,
                })?;
            match self.reserved.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    return Ok(Reservation {
                        budget: self.clone(),
                        bytes,
                    })
                }
                Err(now) => current = now,
            }
        }
    }

    /// Whether a refusal now should be logged: true for the first since the
    /// budget last had a reservation released.
    pub fn should_warn(&self) -> bool {
        !self.warned.swap(true, Ordering::AcqRel)
    }
}

/// Bytes of the budget held for one cell; released on drop.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<MemoryBudget>,
    bytes: usize,
}

impl Reservation {
    /// The bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.reserved.fetch_sub(self.bytes, Ordering::AcqRel);
        self.budget.warned.store(false, Ordering::Release);
    }
}

/// `bytes` as people read it: whole MiB when it is, else bytes.
pub fn show(bytes: usize) -> String {
    if bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The memory this node may use: the machine's (`MemTotal` of
/// `/proc/meminfo`), or its cgroup's limit when that is smaller (v2
/// `memory.max`, v1 `memory.limit_in_bytes`); `None` when unreadable.
pub fn machine_memory() -> Option<usize> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let total = mem_total(&meminfo)?;
    let cgroup = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|c| cgroup_limit(&c, Path::new("/sys/fs/cgroup")));
    Some(cgroup.map_or(total, |limit| limit.min(total)))
}

/// `MemTotal` of a `/proc/meminfo` text, in bytes.
fn mem_total(meminfo: &str) -> Option<usize> {
    let kib: usize = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// The memory limit of the cgroup named in a `/proc/self/cgroup` text,
/// read under `root` (`/sys/fs/cgroup`); `None` when there is none ("max",
/// or a v1 "no limit" near `i64::MAX`) or it cannot be read.
fn cgroup_limit(proc_cgroup: &str, root: &Path) -> Option<usize> {
    let read = |path: &Path| -> Option<usize> {
        let text = std::fs::read_to_string(path).ok()?;
        let value: u64 = text.trim().parse().ok()?;
        // cgroup v1 writes "no limit" as a page-rounded i64::MAX.
        (value < 1 << 60).then_some(value as usize)
    };
    let relative = |path: &str| root.join(path.trim_start_matches('/'));
    proc_cgroup.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        if id == "0" && controllers.is_empty() {
            read(&relative(path).join("memory.max"))
        } else if controllers.split(',').any(|c| c == "memory") {
            read(
                &root
                    .join("memory")
                    .join(path.trim_start_matches('/'))
                    .join("memory.limit_in_bytes"),
            )
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_add_up_to_the_total_and_are_released_on_drop() {
        let budget = MemoryBudget::new(100);
        let a = budget.reserve(60).unwrap();
        let refused = budget.reserve(41).unwrap_err();
        assert_eq!(
            refused,
            OverBudget {
                asked: 41,
                reserved: 60,
                total: 100
            }
        );
        let b = budget.reserve(40).unwrap();
        assert_eq!(budget.reserved(), 100);
        drop(a);
        assert_eq!(budget.reserved(), 40);
        assert!(budget.reserve(60).is_ok(), "released on drop");
        drop(b);
        assert_eq!(budget.reserved(), 0);
        assert!(budget.reserve(usize::MAX).is_err(), "no overflow");
    }

    #[test]
    fn one_warning_per_full_spell() {
        let budget = MemoryBudget::new(10);
        let held = budget.reserve(10).unwrap();
        assert!(budget.should_warn());
        assert!(!budget.should_warn());
        drop(held);
        assert!(budget.should_warn(), "a release starts a new spell");
    }

    #[test]
    fn defaults_fit_and_bad_flags_are_refused_naming_them() {
        let rpc = 36 * MIB;
        let limits = MemoryLimits::new(Some(1024 * MIB), None, None, rpc).unwrap();
        assert_eq!(limits.pid0, DEFAULT_PID0_MEMORY);
        assert_eq!(limits.child, DEFAULT_CHILD_MEMORY);
        assert_eq!(limits.cell(limits.child), DEFAULT_CHILD_MEMORY + rpc);
        let err = MemoryLimits::new(None, None, Some(POOL_MEMORY + MIB), rpc).unwrap_err();
        assert!(err.to_string().starts_with("--max-memory 257 MiB"), "{err}");
        let err = MemoryLimits::new(Some(100 * MIB), None, None, rpc).unwrap_err();
        assert!(err.to_string().contains("--max-memory-total"), "{err}");
        let err = MemoryLimits::new(None, Some(0), None, rpc).unwrap_err();
        assert!(err.to_string().contains("--max-memory-pid0"), "{err}");
        // The default total comes from the machine and holds pid0 and a child.
        assert!(MemoryLimits::new(None, None, None, rpc).is_ok());
    }

    #[test]
    fn the_rpc_bounds_count_against_the_budget() {
        // pid0 and a child fit without their RPC bounds, not with them.
        assert!(MemoryLimits::new(Some(128 * MIB), Some(64 * MIB), Some(64 * MIB), 0).is_ok());
        let err =
            MemoryLimits::new(Some(128 * MIB), Some(64 * MIB), Some(64 * MIB), MIB).unwrap_err();
        assert!(
            err.to_string()
                .contains("1 MiB its RPC bounds let it make the node hold"),
            "{err}"
        );
    }

    #[test]
    fn meminfo_and_cgroup_limits_are_read() {
        let meminfo = "MemTotal:       24683784 kB\nMemFree:  1 kB\n";
        assert_eq!(mem_total(meminfo), Some(24683784 * 1024));
        let root = tempfile::tempdir().unwrap();
        let v2 = root.path().join("svc");
        std::fs::create_dir_all(&v2).unwrap();
        std::fs::write(v2.join("memory.max"), "1073741824\n").unwrap();
        assert_eq!(cgroup_limit("0::/svc\n", root.path()), Some(1 << 30));
        std::fs::write(v2.join("memory.max"), "max\n").unwrap();
        assert_eq!(cgroup_limit("0::/svc\n", root.path()), None);
        let v1 = root.path().join("memory/box");
        std::fs::create_dir_all(&v1).unwrap();
        std::fs::write(v1.join("memory.limit_in_bytes"), "9223372036854771712").unwrap();
        assert_eq!(cgroup_limit("4:memory:/box\n1:cpu:/\n", root.path()), None);
        std::fs::write(v1.join("memory.limit_in_bytes"), "536870912").unwrap();
        assert_eq!(
            cgroup_limit("4:memory:/box\n1:cpu:/\n", root.path()),
            Some(512 << 20)
        );
    }
}
