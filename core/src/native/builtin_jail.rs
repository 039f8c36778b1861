//! The built-in jail: `ww-jail` (Landlock, seccomp, namespaces, resource
//! limits, a PID-1 init per cell) behind the node's [`Jail`] hook.
//!
//! The node's [`Policy`] becomes a `ww_jail::Policy`: the program (and a
//! script's `#!` interpreter) may be read and executed, the image root and
//! `--ro` trees (and a provider process's granted `ro=` paths) read, the
//! scratch directory (and granted `rw=` paths) read and written (and, when
//! the node is root and the cell runs as `nobody`, it is handed to
//! `nobody`), the system libraries read; the memory limit is the tree's
//! in a memory cgroup where the host lets the node make one (status 125
//! past it), else each process's address space; the CPU budget each
//! process's CPU time (in
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
        let mut executable = vec![policy.program.clone()];
        // A missing interpreter is the spawn's to report (status 127).
        let path = command
            .get_envs()
            .find(|(k, _)| *k == "PATH")
            .and_then(|(_, v)| v.map(|v| v.to_os_string()));
        executable.extend(
            interpreters(&policy.program, path.as_deref())
                .into_iter()
                .filter(|i| i.exists()),
        );
        let jailed = ww_jail::Policy {
            read_only: policy.read_only.clone(),
            executable,
            // The scratch directory, and a provider process's granted
            // `rw=` trees (none for a cell).
            read_write: std::iter::once(policy.scratch.clone())
                .chain(policy.read_write.iter().cloned())
                .collect(),
            // Only a provider process the operator granted it.
            network: policy.network,
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

/// The programs a script's `#!` line makes the kernel run: its
/// interpreter, and for `#!/usr/bin/env NAME` also the `NAME` that `env`
/// will find on the cell's `PATH` (`path`; unset, the C library's default
/// `/bin:/usr/bin`). Empty for anything but a script.
///
/// Each must be executable in the jail, and nothing else: `env` is granted
/// the one program it is going to run, not every program on the `PATH`.
fn interpreters(program: &Path, path: Option<&std::ffi::OsStr>) -> Vec<PathBuf> {
    let mut head = [0u8; 256];
    let Ok(mut file) = std::fs::File::open(program) else {
        return Vec::new();
    };
    let n = file.read(&mut head).unwrap_or(0);
    let Some((interpreter, argument)) = shebang(&head[..n]) else {
        return Vec::new();
    };
    let mut out = vec![interpreter.clone()];
    if interpreter.file_name() == Some("env".as_ref()) {
        if let Some(found) = argument.and_then(|name| on_path(&name, path)) {
            out.push(found);
        }
    }
    out
}

/// The interpreter named by a `#!` line at the start of `head`, and its
/// first argument (for `env`, the program it runs; options such as `-S`
/// are not followed).
fn shebang(head: &[u8]) -> Option<(PathBuf, Option<String>)> {
    let line = head.strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|b| *b == b'\n')?];
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split_whitespace();
    let interpreter = PathBuf::from(words.next()?);
    let argument = words.next().filter(|a| !a.starts_with('-'));
    Some((interpreter, argument.map(str::to_string)))
}

/// Where `execvp` would find `name`: the first executable file of that
/// name in `path`'s directories (a name with a `/` is itself).
fn on_path(name: &str, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if name.contains('/') {
        return Some(PathBuf::from(name));
    }
    let path = path.unwrap_or("/bin:/usr/bin".as_ref());
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scripts_interpreter_is_read_from_its_first_line() {
        assert_eq!(shebang(b"#!/bin/sh\necho"), Some(("/bin/sh".into(), None)));
        assert_eq!(
            shebang(b"#! /usr/bin/env python3\n"),
            Some(("/usr/bin/env".into(), Some("python3".into())))
        );
        assert_eq!(
            shebang(b"#!/usr/bin/env -S python3 -u\n"),
            Some(("/usr/bin/env".into(), None))
        );
        assert_eq!(shebang(b"\x7fELF"), None);
        assert_eq!(shebang(b"#!/bin/sh"), None, "no end of line in sight");
    }

    #[test]
    fn env_in_a_scripts_first_line_lets_the_program_it_finds_run_too() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("s");
        std::fs::write(&script, "#!/usr/bin/env sh\necho\n").unwrap();
        let found = interpreters(&script, Some("/nonexistent:/bin:/usr/bin".as_ref()));
        assert_eq!(found[0], PathBuf::from("/usr/bin/env"));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[1].ends_with("sh"), "{found:?}");
        // Not on the PATH: only env, which then fails to find it (127).
        assert_eq!(
            interpreters(&script, Some("/nonexistent".as_ref())).len(),
            1
        );
    }
}
