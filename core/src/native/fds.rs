//! Descriptors a native cell is given: its RPC socket at fd 3, and host
//! descriptors passed by name (`ww run --fd NAME=N`) from fd 4 on, in flag
//! order.
//!
//! The Cell API also says "the first `--fd` lands at fd 3"; in ww fd 3 is
//! always the RPC socket, so passed descriptors start at 4. Their numbers
//! are not part of the contract: each one's number is in the child's
//! environment as `WW_FD_<NAME>` (the name upper-cased), and that is what a
//! cell should read.
//!
//! Every other descriptor of the node is closed in the child at `exec`,
//! including ones ww inherited without close-on-exec.

use std::os::fd::RawFd;

/// The RPC socket's number in every native cell.
pub const RPC_FD: RawFd = 3;
/// The number of the first passed descriptor.
pub const FIRST_PASSED: RawFd = 4;
/// Prefix of the variables naming passed descriptors.
pub const ENV_PREFIX: &str = "WW_FD_";

/// A host descriptor passed to pid0 by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassedFd {
    /// The name, as given (`db` in `--fd db=3`).
    pub name: String,
    /// The descriptor in ww.
    pub host: RawFd,
}

impl PassedFd {
    /// The variable that tells the cell its number: `WW_FD_DB` for `db`.
    pub fn env_name(&self) -> String {
        format!("{ENV_PREFIX}{}", self.name.to_ascii_uppercase())
    }
}

/// A malformed or unusable `--fd`.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FdError {
    /// Not `NAME=N`.
    #[error("--fd {0}: expected NAME=N, where N is a descriptor open in ww (e.g. --fd db=3)")]
    Malformed(String),
    /// A name that cannot be part of a variable name.
    #[error("--fd {0}: the name may hold only letters, digits and `_` (it becomes WW_FD_<NAME>)")]
    BadName(String),
    /// Two descriptors under one name.
    #[error("--fd {0}: the name is given twice (names are compared upper-cased)")]
    Duplicate(String),
    /// More descriptors than a cell may be given.
    #[error("{0} descriptors passed; a cell may be given at most {max}", max = MAX_FDS - 1)]
    TooMany(usize),
    /// The descriptor is not open in ww.
    #[error("--fd {name}={fd}: descriptor {fd} is not open in ww; open it in the shell that starts ww (e.g. `ww run --fd {name}=5 … 5<file`)")]
    Closed {
        /// The name.
        name: String,
        /// The descriptor.
        fd: RawFd,
    },
}

/// Parses `NAME=N`.
///
/// # Errors
///
/// When it is not of that form or the name is not `[A-Za-z0-9_]+`.
pub fn parse(spec: &str) -> Result<PassedFd, FdError> {
    let (name, fd) = spec
        .split_once('=')
        .ok_or_else(|| FdError::Malformed(spec.to_string()))?;
    let host = fd
        .trim()
        .parse::<RawFd>()
        .ok()
        .filter(|fd| *fd >= 0)
        .ok_or_else(|| FdError::Malformed(spec.to_string()))?;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(FdError::BadName(spec.to_string()));
    }
    Ok(PassedFd {
        name: name.to_string(),
        host,
    })
}

/// Checks that every descriptor is open in ww and every name unique.
///
/// Call it before ww opens anything of its own (before its runtime
/// starts): a number that is not open then could later be one of ww's.
///
/// # Errors
///
/// The first problem found.
pub fn check(fds: &[PassedFd]) -> Result<(), FdError> {
    if fds.len() >= MAX_FDS {
        return Err(FdError::TooMany(fds.len()));
    }
    for (i, fd) in fds.iter().enumerate() {
        if fds[..i]
            .iter()
            .any(|other| other.env_name() == fd.env_name())
        {
            return Err(FdError::Duplicate(format!("{}={}", fd.name, fd.host)));
        }
        // SAFETY: F_GETFD only reads the descriptor's flags.
        if unsafe { libc::fcntl(fd.host, libc::F_GETFD) } == -1 {
            return Err(FdError::Closed {
                name: fd.name.clone(),
                fd: fd.host,
            });
        }
    }
    Ok(())
}

/// The numbers passed descriptors get in the child, in order: 4, 5, …
pub fn passed_targets(count: usize) -> Vec<RawFd> {
    (0..count).map(|i| FIRST_PASSED + i as RawFd).collect()
}

/// Where each descriptor goes in the child: `(source, target)` pairs.
/// Built before the fork, applied in the child ([`Layout::apply`]), where
/// nothing may allocate.
#[derive(Clone, Debug)]
pub struct Layout {
    pairs: Vec<(RawFd, RawFd)>,
}

impl Layout {
    /// Each `(source, target)`.
    pub fn new(pairs: Vec<(RawFd, RawFd)>) -> Layout {
        Layout { pairs }
    }

    /// In the child, between `fork` and `exec`: moves every source to its
    /// target (without close-on-exec). Async-signal-safe: system calls
    /// only.
    ///
    /// # Errors
    ///
    /// When a system call fails; the spawn then fails with it.
    pub fn apply(&self) -> std::io::Result<()> {
        if self.pairs.len() > MAX_FDS {
            return Err(std::io::Error::from_raw_os_error(libc::EMFILE));
        }
        let above = self.pairs.iter().map(|(_, to)| to + 1).max().unwrap_or(0);
        // Copy every source above the targets first, so that moving one
        // into place cannot overwrite another source still to be moved.
        let mut moved = [0 as RawFd; MAX_FDS];
        for (i, &(source, _)) in self.pairs.iter().enumerate() {
            // SAFETY: fcntl on descriptors; the copies are close-on-exec.
            let copy = unsafe { libc::fcntl(source, libc::F_DUPFD_CLOEXEC, above) };
            if copy == -1 {
                return Err(std::io::Error::last_os_error());
            }
            moved[i] = copy;
        }
        for (i, &(_, target)) in self.pairs.iter().enumerate() {
            // dup2 clears close-on-exec on the target.
            // SAFETY: dup2 on descriptors this process owns.
            if unsafe { libc::dup2(moved[i], target) } == -1 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }
}

/// Most descriptors one cell may be given (its RPC socket included).
pub const MAX_FDS: usize = 64;

/// Marks every descriptor from `first` up close-on-exec: in the child, so
/// that none of the node's reaches the program, also those ww inherited
/// without the flag. Async-signal-safe.
///
/// # Errors
///
/// Never: descriptors that cannot be marked are not open.
pub fn close_from(first: RawFd) -> std::io::Result<()> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range only changes descriptor flags here.
    let marked = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    };
    if marked == 0 {
        return Ok(());
    }
    // Kernels before 5.11: one descriptor at a time, up to the limit.
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into `limit`.
    let max = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur.min(1 << 20) as RawFd
    } else {
        4096
    };
    for fd in first..max {
        // SAFETY: fcntl on a number that may or may not be open (EBADF).
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_upper_cased_variables() {
        let fd = parse("db=3").unwrap();
        assert_eq!(
            fd,
            PassedFd {
                name: "db".into(),
                host: 3
            }
        );
        assert_eq!(fd.env_name(), "WW_FD_DB");
        assert_eq!(parse("a_1=10").unwrap().env_name(), "WW_FD_A_1");
    }

    #[test]
    fn bad_specs_are_refused_naming_them() {
        for spec in ["db", "db=", "db=x", "db=-1", "=3"] {
            assert!(parse(spec).is_err(), "{spec}");
        }
        assert!(matches!(parse("d-b=3"), Err(FdError::BadName(_))));
        let err = parse("db").unwrap_err().to_string();
        assert!(err.contains("NAME=N"), "{err}");
    }

    #[test]
    fn closed_descriptors_and_duplicates_are_refused() {
        let closed = parse("x=987654").unwrap();
        assert!(matches!(check(&[closed]), Err(FdError::Closed { .. })));
        let both = [parse("db=0").unwrap(), parse("DB=1").unwrap()];
        assert!(matches!(check(&both), Err(FdError::Duplicate(_))));
        assert!(check(&[parse("a=0").unwrap(), parse("b=0").unwrap()]).is_ok());
    }

    #[test]
    fn passed_descriptors_follow_the_rpc_socket() {
        assert_eq!(passed_targets(2), vec![4, 5]);
        assert_eq!(passed_targets(0), Vec::<RawFd>::new());
    }
}
