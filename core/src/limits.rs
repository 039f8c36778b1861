//! Per-cell resource limits, enforced by the host.
//!
//! Memory is capped by a Wasmtime resource limiter: growing past the cap
//! traps (instead of `memory.grow` returning -1, which most guests turn into
//! an abort with a less useful message). CPU is charged in ticks of the
//! engine's epoch (see [`engine::TICK`](crate::engine::TICK)): at every tick
//! a running cell yields to the others, and once its budget is spent it
//! traps. The traps carry typed errors so the exit status says which limit
//! was hit.

use std::time::Duration;

use wasmtime::{Store, UpdateDeadline};

use crate::engine::TICK;

/// Exit statuses of the cell API.
pub mod status {
    /// Success.
    pub const OK: i32 = 0;
    /// A trap, or `main` returned an error.
    pub const FAILURE: i32 = 1;
    /// The cell used up its CPU budget (as `timeout(1)` reports).
    pub const CPU_LIMIT: i32 = 124;
    /// The cell tried to grow its memory past its limit.
    pub const MEMORY_LIMIT: i32 = 125;
    /// The code is not a runnable component or module.
    pub const NOT_EXECUTABLE: i32 = 126;
    /// The code was not found.
    pub const NOT_FOUND: i32 = 127;
    /// Stopped by `Process.kill` (128 + SIGKILL).
    pub const KILLED: i32 = 137;
}

/// Limits for one cell; `None` means unlimited (within the host's own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Largest linear memory, in bytes.
    pub memory: Option<usize>,
    /// CPU time the cell may use.
    pub cpu: Option<Duration>,
}

impl Limits {
    /// `self`, with `defaults` where `self` sets nothing.
    pub fn or(self, defaults: Limits) -> Limits {
        Limits {
            memory: self.memory.or(defaults.memory),
            cpu: self.cpu.or(defaults.cpu),
        }
    }

    /// CPU budget in engine ticks (at least one).
    pub(crate) fn cpu_ticks(&self) -> Option<u64> {
        self.cpu
            .map(|cpu| (cpu.as_millis() / TICK.as_millis().max(1)).max(1) as u64)
    }
}

/// The trap raised when a cell exceeds its CPU budget.
#[derive(Debug, thiserror::Error)]
#[error("the cell used up its CPU budget of {0:?}")]
pub struct CpuExhausted(pub Duration);

/// The trap raised when a cell grows its memory past its limit.
#[derive(Debug, thiserror::Error)]
#[error("the cell tried to grow its memory to {desired} bytes, past its limit of {limit} bytes")]
pub struct MemoryExhausted {
    /// What it asked for.
    pub desired: usize,
    /// Its limit.
    pub limit: usize,
}

/// The resource limiter of one cell's store.
#[derive(Debug, Default)]
pub struct Limiter {
    memory: Option<usize>,
}

impl Limiter {
    /// A limiter for `limits`.
    pub fn new(limits: &Limits) -> Limiter {
        Limiter {
            memory: limits.memory,
        }
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        match self.memory {
            Some(limit) if desired > limit => Err(MemoryExhausted { desired, limit }.into()),
            _ => Ok(true),
        }
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

/// The exit status a failed run maps to: the code the guest passed to
/// `exit`, a limit's status, or [`status::FAILURE`] for any other trap.
pub fn exit_status(error: &wasmtime::Error) -> Option<i32> {
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Some(exit.0);
    }
    if error.downcast_ref::<CpuExhausted>().is_some() {
        return Some(status::CPU_LIMIT);
    }
    if error.downcast_ref::<MemoryExhausted>().is_some() {
        return Some(status::MEMORY_LIMIT);
    }
    None
}

/// Makes a cell's store yield at every engine tick and trap with
/// [`CpuExhausted`] once its CPU budget (if any) is spent: the CPU-limit
/// mechanism, applied to every cell.
///
/// The yield is tokio's `yield_now`, not Wasmtime's plain `Yield`: that one
/// wakes the cell at once, so a `LocalSet` full of busy cells polled them
/// up to 61 times in a row (61 time slices, ~0.6 s) before the runtime ran
/// its own tasks and polled its drivers — among them the workers of every
/// cell's WASI streams, so each RPC hop of a sibling waited that long
/// (`Process.kill` of one of three busy children took seconds). `yield_now`
/// defers the wake-up until the runtime has run everything else that is
/// ready, so a busy cell costs its siblings one slice, not sixty.
pub fn time_slices<T: 'static>(store: &mut Store<T>, limits: &Limits) {
    store.set_epoch_deadline(1);
    let budget = limits.cpu_ticks();
    let cpu = limits.cpu.unwrap_or_default();
    let mut used: u64 = 0;
    store.epoch_deadline_callback(move |_| {
        used += 1;
        match budget {
            Some(budget) if used >= budget => Err(CpuExhausted(cpu).into()),
            _ => Ok(UpdateDeadline::YieldCustom(
                1,
                Box::pin(tokio::task::yield_now()),
            )),
        }
    });
}
