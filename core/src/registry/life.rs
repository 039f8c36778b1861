//! One run of a provider process, from spawn to its end, as the node
//! watches it: whether its connection is closed, and how it ended.

use std::fmt;
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How a provider process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It exited with this code.
    Exited(i32),
    /// A signal ended it.
    Signal(i32),
    /// The node could not start or wait for it.
    Failed(String),
}

impl Ending {
    /// From a native process's [`Exit`](crate::native::Exit).
    pub fn of(exit: &crate::native::Exit) -> Ending {
        match exit.signal {
            Some(signal) => Ending::Signal(signal),
            None => Ending::Exited(exit.status),
        }
    }
}

impl fmt::Display for Ending {
    /// "exited with status 3", "was killed by signal 9 (SIGKILL)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Exited(code) => write!(f, "exited with status {code}"),
            Ending::Signal(n) => match signal_name(*n) {
                Some(name) => write!(f, "was killed by signal {n} ({name})"),
                None => write!(f, "was killed by signal {n}"),
            },
            Ending::Failed(why) => write!(f, "could not be run: {why}"),
        }
    }
}

fn signal_name(n: i32) -> Option<&'static str> {
    Some(match n {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGSYS => "SIGSYS",
        _ => return None,
    })
}

/// One run of a provider process.
pub struct Life {
    /// The provider's name.
    pub provider: String,
    /// Its main process.
    pub pid: libc::pid_t,
    /// When it was started.
    pub since: Instant,
    /// Set when the node's end of its socket reads end-of-stream or fails.
    pub(super) closed: watch::Receiver<bool>,
    /// Set once the process has ended.
    pub(super) ended: watch::Receiver<Option<Ending>>,
    /// Whether the node restarts it when it ends.
    pub(super) restarts: bool,
}

impl Life {
    /// How it ended, once it has.
    pub fn ending(&self) -> Option<Ending> {
        self.ended.borrow().clone()
    }

    /// Waits until the process has ended.
    pub async fn ended(&self) -> Ending {
        wait(self.ended.clone()).await
    }

    /// How long it has run (until now).
    pub fn ran(&self) -> Duration {
        self.since.elapsed()
    }

    /// Whether its connection is closed.
    pub fn closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// The error a call on one of its capabilities fails with once it is
    /// down. It starts with `providerDown:` so that a client (the
    /// kernel's shell) knows that grafting again will hand it the
    /// restarted provider's capabilities.
    pub fn down(&self, how: &str) -> ww_provider_sdk::capnp::Error {
        let next = if self.restarts {
            "ww restarts it: graft again for its new capabilities"
        } else {
            "it stays down (--provider-restart off)"
        };
        ww_provider_sdk::capnp::Error::failed(format!(
            "providerDown: provider `{}` (pid {}) {how}; {next}",
            self.provider, self.pid
        ))
    }
}

/// Waits until the watched process has ended.
pub(super) async fn wait(mut ended: watch::Receiver<Option<Ending>>) -> Ending {
    match ended.wait_for(Option::is_some).await {
        Ok(ending) => ending
            .clone()
            .unwrap_or_else(|| Ending::Failed("unknown".into())),
        // The task that watched it is gone: the node is ending.
        Err(_) => Ending::Failed("the node stopped watching it".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endings_read_as_a_person_would_say_them() {
        assert_eq!(
            Ending::Signal(9).to_string(),
            "was killed by signal 9 (SIGKILL)"
        );
        assert_eq!(
            Ending::Signal(11).to_string(),
            "was killed by signal 11 (SIGSEGV)"
        );
        assert_eq!(Ending::Exited(3).to_string(), "exited with status 3");
        let exit = crate::native::Exit {
            status: 134,
            signal: Some(6),
        };
        assert_eq!(
            Ending::of(&exit).to_string(),
            "was killed by signal 6 (SIGABRT)"
        );
    }
}
