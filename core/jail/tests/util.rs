//! Shared helpers: the probe, a policy that lets it start, bounded waits.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ww_jail::{Ending, Jail, Policy};

/// The probe binary, built by cargo with the tests.
pub fn probe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ww-jail-probe"))
}

/// A policy that lets the probe (and nothing else) start.
pub fn policy() -> Policy {
    Policy {
        executable: vec![probe()],
        ..Policy::default()
    }
}

/// Compiles `policy`; these tests need every feature.
pub fn jail(policy: &Policy) -> Jail {
    Jail::new(policy)
        .unwrap_or_else(|e| panic!("the jail's tests need root and a full kernel: {e}"))
}

/// The probe in `mode`, stdout piped.
pub fn probe_command(args: &[&str]) -> Command {
    let mut command = Command::new(probe());
    command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs the probe jailed by `policy`; returns how it ended and its stdout.
pub fn run(policy: &Policy, args: &[&str]) -> (Ending, String) {
    let jail = jail(policy);
    let mut jailed = jail
        .spawn(probe_command(args), &[])
        .expect("spawn the jailed probe");
    let mut stdout = String::new();
    let mut stderr = String::new();
    use std::io::Read;
    let child = jailed.child();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let ending = jailed.wait().expect("wait for the jailed probe");
    eprintln!("probe {args:?}: {ending}; stdout {stdout:?}; stderr {stderr:?}");
    (ending, stdout)
}

/// Waits until `done` holds, for at most `limit`; false if it never did.
pub fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    done()
}

/// Whether `pid` is a live process (not gone, not a zombie).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
        Err(_) => false,
    }
}

/// The pids of every descendant of `pid`, from /proc.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                out.push(child);
                todo.push(child);
            }
        }
    }
    out
}

/// A scratch directory the jailed process (uid `nobody`) may write.
pub fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o777);
    dir
}

pub fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
