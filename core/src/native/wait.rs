//! Waiting for a native cell's main process without blocking the node's
//! thread, and holding it to its CPU budget meanwhile.
//!
//! The node waits on a pidfd (readable once the process has exited), then
//! reaps the process with `wait4`, which also says how much CPU it used
//! (with the descendants it waited for). Until then, a cell with a CPU
//! budget is checked now and then: the CPU time so far of its process and
//! its live descendants (from `/proc`; a jail's init has the program as
//! its child) plus the node's work on its calls; past the budget its whole
//! group is killed and the cell's status is 124.

use std::os::fd::{FromRawFd, OwnedFd};
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use super::group::Group;
use crate::cpu::Share;

/// The shortest wait between two checks of a CPU budget (`/proc` counts
/// CPU time in ticks of 10 ms anyway).
const CHECK_AT_LEAST: Duration = Duration::from_millis(10);

/// How a native cell's main process ended.
pub(super) struct Exited {
    /// Its `wait` status word.
    pub word: libc::c_int,
    /// The CPU time it and the descendants it waited for used.
    pub cpu: Duration,
    /// The node stopped it: its CPU budget was spent.
    pub out_of_cpu: bool,
}

/// A pidfd for `pid`, to wait on.
pub(super) fn pidfd(pid: libc::pid_t) -> std::io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the descriptor was just created and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    // SAFETY: an OwnedFd keeps its one descriptor open until dropped.
    unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }.map_err(|e| e.into())
}

/// Waits until the main process of `group` exits, kills what is left of
/// its group, and reaps it. With a `budget`, stops the cell once the CPU
/// time of its process and the node's work for it (`share`) pass it.
///
/// # Cancel safety
///
/// Dropping the future leaves the process to `group`, whose drop kills
/// and reaps it.
pub(super) async fn exit(
    group: &mut Group,
    pidfd: &AsyncFd<OwnedFd>,
    budget: Option<Duration>,
    share: &Share,
) -> std::io::Result<Exited> {
    let pid = group.pid();
    let mut out_of_cpu = false;
    let mut next_check = budget.map(|b| until_spent(b, share.used()));
    loop {
        let check = async {
            match next_check {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ready = pidfd.readable() => {
                let mut ready = ready?;
                // The main process is a zombie: its number still names the
                // group, so the rest of the tree can be killed safely.
                group.kill();
                if let Some((word, cpu)) = reap(pid)? {
                    group.reaped();
                    return Ok(Exited { word, cpu, out_of_cpu });
                }
                ready.clear_ready();
            }
            () = check => {
                let Some(budget) = budget else { continue };
                let used = share.used() + tree_cpu(pid);
                if used >= budget {
                    out_of_cpu = true;
                    next_check = None;
                    group.kill();
                } else {
                    next_check = Some(until_spent(budget, used));
                }
            }
        }
    }
}

/// How long to wait before checking a budget again: the CPU time left,
/// spread over every core the process could be using.
fn until_spent(budget: Duration, used: Duration) -> Duration {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    (budget.saturating_sub(used) / cores).max(CHECK_AT_LEAST)
}

/// Reaps `pid` if it has exited: its status word and CPU time.
fn reap(pid: libc::pid_t) -> std::io::Result<Option<(libc::c_int, Duration)>> {
    let mut word = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for this node's own child, without blocking.
    let got = unsafe { libc::wait4(pid, &mut word, libc::WNOHANG, &mut usage) };
    match got {
        -1 => Err(std::io::Error::last_os_error()),
        0 => Ok(None),
        _ => Ok(Some((
            word,
            timeval(usage.ru_utime) + timeval(usage.ru_stime),
        ))),
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

/// How deep, and how many processes, [`tree_cpu`] looks.
const TREE_DEPTH: u32 = 4;
const TREE_PROCESSES: usize = 256;

/// CPU time of the running process `pid` and its live descendants (each
/// one's threads, and the children it waited for), from `/proc`: a few
/// levels and processes deep, enough for a program under a jail's init
/// and what it runs.
pub(super) fn tree_cpu(pid: libc::pid_t) -> Duration {
    let mut ticks = 0u64;
    let mut seen = 0usize;
    let mut level = vec![pid];
    for _ in 0..TREE_DEPTH {
        let mut next = Vec::new();
        for pid in level {
            if seen >= TREE_PROCESSES {
                break;
            }
            seen += 1;
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                ticks += ticks_of_stat(&stat).unwrap_or(0);
            }
            // Children are listed by the thread that forked them.
            let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
                continue;
            };
            for task in tasks.flatten() {
                if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
                    next.extend(
                        list.split_whitespace()
                            .filter_map(|p| p.parse::<libc::pid_t>().ok()),
                    );
                }
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    // SAFETY: sysconf has no memory-safety preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_nanos(ticks.saturating_mul(1_000_000_000) / hz)
}

/// utime + stime + cutime + cstime of a `/proc/<pid>/stat` line, in
/// clock ticks. The command name (field 2) may hold spaces and
/// parentheses, so fields are counted from its closing parenthesis.
fn ticks_of_stat(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Field 3 (state) is fields[0]; utime..cstime are fields 14..17.
    fields
        .get(11..15)?
        .iter()
        .map(|f| f.parse::<u64>().ok())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_read_past_the_command_name() {
        let stat = "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0";
        assert_eq!(ticks_of_stat(stat), Some(13));
        assert_eq!(ticks_of_stat("42 (x) S 1"), None);
    }

    #[test]
    fn a_budget_is_checked_again_when_it_could_be_spent() {
        let at = until_spent(Duration::from_secs(10), Duration::from_secs(2));
        assert!(at >= Duration::from_secs(1) && at <= Duration::from_secs(8));
        let at = until_spent(Duration::from_secs(1), Duration::from_secs(2));
        assert_eq!(at, CHECK_AT_LEAST);
    }
}
