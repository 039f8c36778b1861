//! The built-in jail: `ww-jail` (Landlock, seccomp, namespaces, resource
//! limits, a PID-1 init per cell) behind the node's [`Jail`] hook.
//!
//! The node's [`Policy`] becomes a `ww_jail::Policy`: the program (and a
//! script's `#!` interpreter) may be read and executed, the image root and
//! `--ro` trees (and a provider process's granted `ro=` paths) read, the
//! scratch directory (and granted `rw=` paths) read and written (and, when
//! the node is root and the cell runs as `nobody`, it is handed to
//! `nobody`), the system libraries read; the memory limit is each
//! process's address space, the CPU budget each process's CPU time (in
//! whole seconds; the node's own check is finer), the process count the
//! tree's. The jail places the descriptors, and its init, which the node
//! waits for, exits with the cell's status and takes the cell's tree with
//! it; its handle is held until the node has reaped that init.
//!
//! Hazard: when the node runs as root the cell runs as `nobody`, so the
//! files it is given (image, `--ro` trees, the program) must be readable
//! by `nobody`, as file modes go, besides being in the policy.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::jail::{Jail, JailError, Passed, Policy, Started};
use super::NativeError;

/// `ww-jail`, compiled anew for each cell (each has its own paths).
pub struct WwJail;

impl Jail for WwJail {
    fn name(&self) -> &str {
        "ww-jail"
    }

    fn spawn(
        &self,
        command: Command,
        fds: &[Passed<'_>],
        policy: &Policy,
    ) -> Result<Started, NativeError> {
        let refused = |e: ww_jail::Error| {
            NativeError::Jail(JailError {
                cell: policy.cell.clone(),
                reason: e.to_string(),
            })
        };
        // ww-jail gives every process a network namespace of its own:
        // there is no host network to grant (a provider process asking
        // for it is refused rather than started without it).
        if policy.network {
            return Err(NativeError::Jail(JailError {
                cell: policy.cell.clone(),
                reason: "it was granted the host's network, and ww-jail cannot give a jailed \
                         process the network yet; run it with --no-jail, or without that need"
                    .into(),
            }));
        }
        let mut executable = vec![policy.program.clone()];
        // A missing interpreter is the spawn's to report (status 127).
        executable.extend(interpreter(&policy.program).filter(|i| i.exists()));
        let jailed = ww_jail::Policy {
            read_only: policy.read_only.clone(),
            executable,
            // The scratch directory, and a provider process's granted
            // `rw=` trees (none for a cell).
            read_write: std::iter::once(policy.scratch.clone())
                .chain(policy.read_write.iter().cloned())
                .collect(),
            limits: ww_jail::Limits {
                memory: policy.memory.map(|m| m as u64),
                cpu: policy.cpu,
                processes: Some(policy.max_pids),
                ..ww_jail::Limits::default()
            },
            ..ww_jail::Policy::default()
        };
        hand_over(&policy.scratch, &jailed).map_err(|source| NativeError::Io {
            cell: policy.cell.clone(),
            what: "hand its scratch directory to the jail's user",
            source,
        })?;
        let compiling = std::time::Instant::now();
        let jail = ww_jail::Jail::new(&jailed).map_err(refused)?;
        let spawning = std::time::Instant::now();
        let started = jail.spawn(command, fds).map_err(|e| match e {
            ww_jail::Error::Spawn(source) => NativeError::Spawn {
                cell: policy.cell.clone(),
                program: policy.program.clone(),
                source,
            },
            e => refused(e),
        })?;
        tracing::debug!(
            cell = %policy.cell,
            "jail compiled in {:.1?}, cell spawned in {:.1?}",
            spawning - compiling,
            spawning.elapsed()
        );
        Ok(Started {
            pid: started.id() as libc::pid_t,
            keep: Some(Box::new(started)),
        })
    }
}

/// When the node is root the cell runs as the policy's user, which must
/// be able to write its scratch directory.
fn hand_over(scratch: &Path, policy: &ww_jail::Policy) -> std::io::Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    std::os::unix::fs::chown(scratch, Some(policy.uid), Some(policy.gid))
}

/// The `#!` interpreter of a script (`None` for anything else).
fn interpreter(program: &Path) -> Option<PathBuf> {
    let mut head = [0u8; 256];
    let mut file = std::fs::File::open(program).ok()?;
    let n = file.read(&mut head).ok()?;
    shebang(&head[..n])
}

/// The interpreter named by a `#!` line at the start of `head`.
fn shebang(head: &[u8]) -> Option<PathBuf> {
    let line = head.strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|b| *b == b'\n')?];
    let line = std::str::from_utf8(line).ok()?;
    line.split_whitespace().next().map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_network_is_refused_not_dropped() {
        let policy = Policy {
            cell: "provider kv".into(),
            program: "/bin/true".into(),
            read_only: Vec::new(),
            scratch: std::env::temp_dir(),
            read_write: Vec::new(),
            network: true,
            rpc_fd: 3,
            passed_fds: Vec::new(),
            memory: None,
            cpu: None,
            max_pids: 8,
        };
        let err = WwJail
            .spawn(Command::new("/bin/true"), &[], &policy)
            .err()
            .expect("refused");
        let text = err.to_string();
        assert!(
            text.contains("network") && text.contains("--no-jail"),
            "{text}"
        );
    }

    #[test]
    fn a_scripts_interpreter_is_read_from_its_first_line() {
        assert_eq!(shebang(b"#!/bin/sh\necho"), Some("/bin/sh".into()));
        assert_eq!(
            shebang(b"#! /usr/bin/env python3\n"),
            Some("/usr/bin/env".into())
        );
        assert_eq!(shebang(b"\x7fELF"), None);
        assert_eq!(shebang(b"#!/bin/sh"), None, "no end of line in sight");
    }
}
