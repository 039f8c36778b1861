//! A native cell's exit status in the Cell API's numbering, the same a Wasm
//! cell reports (see [`limits::status`](crate::limits::status)).
//!
//! A process that exits returns its own code (0–255); one killed by signal
//! n is 128 + n, as shells report it (so a `Process.kill`, SIGKILL, is 137,
//! as for a Wasm cell). A program that cannot be started is 127 when it
//! (or its `#!` interpreter) does not exist and 126 when it exists but
//! cannot be executed. The node's own verdicts win over the signal that
//! carried them: a cell stopped for its CPU budget is 124.

use std::io;

use crate::limits::status;

/// The status of a process from a `wait` status word.
pub fn from_wait(word: libc::c_int) -> i32 {
    if libc::WIFEXITED(word) {
        libc::WEXITSTATUS(word)
    } else if libc::WIFSIGNALED(word) {
        128 + libc::WTERMSIG(word)
    } else {
        status::FAILURE
    }
}

/// The status of a program that could not be started with `error`.
pub fn spawn_failure(error: &io::Error) -> i32 {
    match error.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ENOTDIR) => status::NOT_FOUND,
        _ => status::NOT_EXECUTABLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_pass_through_and_signals_add_128() {
        // A wait status word: the code in bits 8-15; a signal in bits 0-6.
        assert_eq!(from_wait(0), 0);
        assert_eq!(from_wait(7 << 8), 7);
        assert_eq!(from_wait(255 << 8), 255);
        assert_eq!(from_wait(libc::SIGKILL), status::KILLED);
        assert_eq!(from_wait(libc::SIGTERM), 143);
    }

    #[test]
    fn missing_programs_are_127_and_unrunnable_ones_126() {
        let os = io::Error::from_raw_os_error;
        assert_eq!(spawn_failure(&os(libc::ENOENT)), 127);
        assert_eq!(spawn_failure(&os(libc::EACCES)), 126);
        assert_eq!(spawn_failure(&os(libc::ENOEXEC)), 126);
    }
}
