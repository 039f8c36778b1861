//! A native cell's environment: what it was given (for pid0, `WW_ENV` and
//! `--env`; for a child, its spawn's `env`) and what the node adds.
//!
//! The node adds `WW_FD_<NAME>` for each passed descriptor, replacing any
//! `WW_FD_*` the cell was given (those numbers are the node's to say), and
//! `TMPDIR`, the cell's scratch directory, unless `TMPDIR` was given. No
//! other variable of ww's own environment reaches the cell.

use std::os::fd::RawFd;
use std::path::Path;

use super::fds::{PassedFd, ENV_PREFIX};

/// The environment of a cell given `env`, passed `fds` (numbered
/// `targets` in the child), with its scratch directory at `scratch`.
pub(super) fn cell_env(
    env: &[(String, String)],
    fds: &[PassedFd],
    targets: &[RawFd],
    scratch: &Path,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| !k.starts_with(ENV_PREFIX))
        .cloned()
        .collect();
    if !out.iter().any(|(k, _)| k == "TMPDIR") {
        out.push(("TMPDIR".into(), scratch.display().to_string()));
    }
    out.extend(
        fds.iter()
            .zip(targets)
            .map(|(fd, n)| (fd.env_name(), n.to_string())),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::fds::parse;

    #[test]
    fn descriptors_are_named_by_the_node_and_tmpdir_is_the_scratch() {
        let given = vec![
            ("HOME".to_string(), "/home/a".to_string()),
            ("WW_FD_DB".to_string(), "99".to_string()),
            ("WW_FD_OTHER".to_string(), "98".to_string()),
        ];
        let fds = [parse("db=7").unwrap(), parse("log=2").unwrap()];
        let env = cell_env(&given, &fds, &[4, 5], Path::new("/tmp/s"));
        assert_eq!(
            env,
            vec![
                ("HOME".to_string(), "/home/a".to_string()),
                ("TMPDIR".to_string(), "/tmp/s".to_string()),
                ("WW_FD_DB".to_string(), "4".to_string()),
                ("WW_FD_LOG".to_string(), "5".to_string()),
            ]
        );
        let own = vec![("TMPDIR".to_string(), "/mine".to_string())];
        assert_eq!(cell_env(&own, &[], &[], Path::new("/tmp/s")), own);
    }
}
