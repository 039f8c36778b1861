//! How a jailed process ended, and the exit status that reports it, with
//! the same numbers as a Wasm cell's (ww's `limits::status`).
//!
//! What can be told apart: a normal exit, death by a signal, the CPU budget
//! (`SIGXCPU`, or the `SIGKILL` that follows it once the budget is spent),
//! the memory limit when a cgroup holds it (a `SIGKILL` the cgroup counts
//! as an OOM kill), and a kill by the node. What cannot: an allocation
//! refused by `RLIMIT_AS`, the memory limit on hosts without a memory
//! cgroup for the node: the allocation fails inside the program, and what
//! follows is the program's choice: Rust aborts (`SIGABRT`, 134), Python
//! raises `MemoryError` (exit 1), C may crash on a null pointer (`SIGSEGV`,
//! 139).

use std::fmt;

/// Exit statuses of the cell API.
pub mod code {
    /// Success.
    pub const OK: i32 = 0;
    /// Failure.
    pub const FAILURE: i32 = 1;
    /// The CPU budget was used up (as `timeout(1)` reports).
    pub const CPU_LIMIT: i32 = 124;
    /// The memory limit was hit.
    pub const MEMORY_LIMIT: i32 = 125;
    /// The program is not executable.
    pub const NOT_EXECUTABLE: i32 = 126;
    /// The program was not found.
    pub const NOT_FOUND: i32 = 127;
    /// Killed by the node (128 + SIGKILL).
    pub const KILLED: i32 = 137;
}

/// How a jailed process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It exited with this code.
    Exited(i32),
    /// A signal ended it (not the CPU limit, not the node's kill).
    Signaled(i32),
    /// It used up its CPU budget.
    CpuLimit,
    /// Its tree went past its memory limit and the kernel killed it (only
    /// where a cgroup holds the limit).
    MemoryLimit,
    /// The node killed it (or its init was killed from outside).
    Killed,
}

impl Ending {
    /// The exit status a cell reports for this ending: the code itself,
    /// 124 for the CPU budget, 137 for a kill, 128 + n for signal n.
    pub fn status(&self) -> i32 {
        match *self {
            Ending::Exited(code) => code,
            Ending::Signaled(signal) => 128 + signal,
            Ending::CpuLimit => code::CPU_LIMIT,
            Ending::MemoryLimit => code::MEMORY_LIMIT,
            Ending::Killed => code::KILLED,
        }
    }

    /// The ending of a spawn that failed with `error`: 127 when the program
    /// was not found, 126 when it is not executable (or the jail denied it).
    pub fn status_of_spawn_error(error: &std::io::Error) -> i32 {
        match error.kind() {
            std::io::ErrorKind::NotFound => code::NOT_FOUND,
            _ => code::NOT_EXECUTABLE,
        }
    }
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Exited(code) => write!(f, "exited with {code}"),
            Ending::Signaled(signal) => write!(f, "ended by signal {signal}"),
            Ending::CpuLimit => f.write_str("used up its CPU budget"),
            Ending::MemoryLimit => f.write_str("was killed past its memory limit"),
            Ending::Killed => f.write_str("killed"),
        }
    }
}

/// The 8-byte record the jail's init writes to the node: a tag and a value.
pub(crate) mod report {
    use super::Ending;
    use crate::error::Step;

    const EXITED: u32 = 0;
    const SIGNALED: u32 = 1;
    const CPU: u32 = 2;
    const SETUP_FAILED: u32 = 3;
    const MEMORY: u32 = 4;

    /// What a record says.
    pub(crate) enum Report {
        Ended(Ending),
        SetupFailed(Step),
    }

    pub(crate) fn ending(ending: Ending) -> [u8; 8] {
        let (tag, value) = match ending {
            Ending::Exited(code) => (EXITED, code as u32),
            Ending::Signaled(signal) => (SIGNALED, signal as u32),
            Ending::CpuLimit => (CPU, 0),
            Ending::MemoryLimit => (MEMORY, 0),
            Ending::Killed => (SIGNALED, libc::SIGKILL as u32),
        };
        record(tag, value)
    }

    pub(crate) fn setup_failed(step: Step) -> [u8; 8] {
        record(SETUP_FAILED, step as u32)
    }

    fn record(tag: u32, value: u32) -> [u8; 8] {
        let mut out = [0; 8];
        out[..4].copy_from_slice(&tag.to_ne_bytes());
        out[4..].copy_from_slice(&value.to_ne_bytes());
        out
    }

    pub(crate) fn parse(bytes: [u8; 8]) -> Option<Report> {
        let tag = u32::from_ne_bytes(bytes[..4].try_into().ok()?);
        let value = u32::from_ne_bytes(bytes[4..].try_into().ok()?);
        Some(match tag {
            EXITED => Report::Ended(Ending::Exited(value as i32)),
            SIGNALED => Report::Ended(Ending::Signaled(value as i32)),
            CPU => Report::Ended(Ending::CpuLimit),
            MEMORY => Report::Ended(Ending::MemoryLimit),
            SETUP_FAILED => Report::SetupFailed(Step::from_u32(value)?),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::report::{self, Report};
    use super::*;
    use crate::error::Step;

    #[test]
    fn statuses_match_a_wasm_cells() {
        assert_eq!(Ending::Exited(0).status(), code::OK);
        assert_eq!(Ending::Exited(3).status(), 3);
        assert_eq!(Ending::CpuLimit.status(), code::CPU_LIMIT);
        assert_eq!(Ending::MemoryLimit.status(), code::MEMORY_LIMIT);
        assert_eq!(Ending::Killed.status(), code::KILLED);
        assert_eq!(Ending::Signaled(libc::SIGSEGV).status(), 139);
        let missing = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(Ending::status_of_spawn_error(&missing), code::NOT_FOUND);
        let denied = std::io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(Ending::status_of_spawn_error(&denied), code::NOT_EXECUTABLE);
    }

    #[test]
    fn reports_round_trip() {
        for ending in [
            Ending::Exited(7),
            Ending::Signaled(6),
            Ending::CpuLimit,
            Ending::MemoryLimit,
        ] {
            let Some(Report::Ended(back)) = report::parse(report::ending(ending)) else {
                panic!("{ending:?} did not come back");
            };
            assert_eq!(back, ending);
        }
        let Some(Report::SetupFailed(step)) = report::parse(report::setup_failed(Step::Seccomp))
        else {
            panic!("the step did not come back");
        };
        assert_eq!(step, Step::Seccomp);
        assert!(report::parse([9, 0, 0, 0, 0, 0, 0, 0]).is_none());
    }
}
