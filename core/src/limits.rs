//! Per-cell resource limits, enforced by the host.
//!
//! Memory is capped by a Wasmtime resource limiter: growing past the cap
//! traps (instead of `memory.grow` returning -1, which most guests turn into
//! an abort with a less useful message). CPU is measured by the
//! [`cpu`](crate::cpu) scheduler; at every tick of the engine's epoch (see
//! [`engine::TICK`](crate::engine::TICK)) a running cell yields, and once
//! its budget is spent it traps. The traps carry typed errors so the exit
//! status says which limit was hit.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Store, UpdateDeadline};

use crate::cpu::Meter;

/// Exit statuses of the cell API, one set for Wasm and native cells (the
/// jail reports a native process's ending in the same numbers): 0 success,
/// 1 a trap or failure, 124 CPU budget, 125 memory limit, 126 not
/// executable, 127 not found, 137 killed.
pub use ww_jail::code as status;

/// Limits for one cell; `None` means unlimited (within the host's own).
///
/// Every cell the node runs gets a memory limit (pid0's from
/// `--max-memory-pid0`, a child's from its spawn or `--max-memory`), since
/// each is reserved from the node's memory budget (see
/// [`memory_budget`](crate::memory_budget)).
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
}

/// The trap raised when a cell exceeds its CPU budget.
#[derive(Debug, thiserror::Error)]
#[error("the cell used up its CPU budget of {0:?}")]
pub struct CpuExhausted(pub Duration);

/// The trap raised when a cell grows its memory past its limit.
#[derive(Debug, thiserror::Error)]
#[error("the cell tried to grow its memory to {desired} bytes, past its limit of {limit} bytes")]
pub struct MemoryExhausted {
    /// What it asked for: all its linear memories together.
    pub desired: usize,
    /// Its limit.
    pub limit: usize,
}

/// The resource limiter of one cell's store.
///
/// The limit holds for all the linear memories of the store together, not
/// for each: a component may instantiate many core modules, each with its
/// own memory, and the node-wide budget
/// ([`memory_budget`](crate::memory_budget)) counts one limit per cell.
#[derive(Debug, Default)]
pub struct Limiter {
    memory: Option<usize>,
    // Bytes of all the store's memories (they are freed only with the store).
    used: usize,
    // The growth last allowed, taken back if Wasmtime then fails it.
    growing: usize,
}

impl Limiter {
    /// A limiter for `limits`.
    pub fn new(limits: &Limits) -> Limiter {
        Limiter {
            memory: limits.memory,
            used: 0,
            growing: 0,
        }
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growing = desired.saturating_sub(current);
        let after = self.used.saturating_add(growing);
        match self.memory {
            Some(limit) if after > limit => Err(MemoryExhausted {
                desired: after,
                limit,
            }
            .into()),
            _ => {
                self.used = after;
                self.growing = growing;
                Ok(true)
            }
        }
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.used = self.used.saturating_sub(std::mem::take(&mut self.growing));
        Ok(())
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
/// [`CpuExhausted`] once the CPU time `meter` measured passes its budget
/// (if any): the CPU-limit mechanism, applied to every cell. The budget is
/// checked at ticks, so a cell may overrun it by up to one.
///
/// The yield is tokio's `yield_now`, not Wasmtime's plain `Yield`: that one
/// wakes the cell at once, so a `LocalSet` full of busy cells polled them
/// up to 61 times in a row (61 time slices) before the runtime ran its own
/// tasks and polled its drivers. `yield_now` defers the wake-up until the
/// runtime has run everything else that is ready; which cell runs next is
/// then the [`cpu`](crate::cpu) scheduler's choice.
pub fn time_slices<T: 'static>(store: &mut Store<T>, limits: &Limits, meter: Arc<Meter>) {
    store.set_epoch_deadline(1);
    let budget = limits.cpu;
    store.epoch_deadline_callback(move |_| match budget {
        Some(budget) if meter.used() >= budget => Err(CpuExhausted(budget).into()),
        _ => {
            meter.slice_ended();
            Ok(UpdateDeadline::YieldCustom(
                1,
                Box::pin(tokio::task::yield_now()),
            ))
        }
    });
}

#[cfg(test)]
mod tests {
    use wasmtime::ResourceLimiter;

    use super::*;

    fn limiter(bytes: usize) -> Limiter {
        Limiter::new(&Limits {
            memory: Some(bytes),
            cpu: None,
        })
    }

    #[test]
    fn the_limit_holds_for_all_memories_of_a_cell_together() {
        let mut limiter = limiter(100);
        assert!(limiter.memory_growing(0, 60, None).unwrap());
        // A second memory (another core instance of the same component).
        assert!(limiter.memory_growing(0, 40, None).unwrap());
        let err = limiter.memory_growing(40, 41, None).unwrap_err();
        let exhausted = err.downcast_ref::<MemoryExhausted>().expect("typed trap");
        assert_eq!((exhausted.desired, exhausted.limit), (101, 100));
        assert_eq!(exit_status(&err), Some(status::MEMORY_LIMIT));
    }

    #[test]
    fn a_growth_that_fails_after_it_was_allowed_is_not_counted() {
        let mut limiter = limiter(100);
        assert!(limiter.memory_growing(0, 90, None).unwrap());
        limiter
            .memory_grow_failed(wasmtime::format_err!("no room"))
            .unwrap();
        assert!(limiter.memory_growing(0, 100, None).unwrap());
    }
}
