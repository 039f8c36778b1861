//! Files (and TCP) through Landlock: the process may open only what the
//! policy lists, whatever the files' owners and modes say.
//!
//! The ruleset is built in the node, before the fork (it opens every path
//! of the policy); the child only applies it. ABI 1 (files) is required, so
//! on a kernel without Landlock building the jail fails instead of running
//! the cell with the node's view of the disk. What later ABIs add is applied
//! where the kernel has it: refer and truncate rights (2, 3), TCP bind and
//! connect denied outright (4: no rule grants a port; not handled at all for
//! a process that keeps the host's network), device ioctls (5),
//! and scoping (6): no connecting to abstract Unix sockets, no signals, to
//! anything outside the jail.

use std::path::{Path, PathBuf};

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreated, RulesetCreatedAttr, Scope, ABI,
};

use crate::error::{Error, Feature};
use crate::policy::{Policy, NETWORK_FILES, SYSTEM_FILES, SYSTEM_LIBRARIES, SYSTEM_SINKS};

/// The newest ABI whose rights this crate was written and tested against.
const TESTED: ABI = ABI::V6;

/// Builds the policy's ruleset.
///
/// # Errors
///
/// [`Error::Unavailable`] when the kernel has no Landlock, [`Error::Path`]
/// when a path of the policy cannot be opened.
pub(crate) fn ruleset(policy: &Policy) -> Result<RulesetCreated, Error> {
    let unavailable = |e: landlock::RulesetError| Error::Unavailable {
        feature: Feature::Landlock,
        why: e.to_string(),
    };
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(ABI::V1))
        .map_err(unavailable)?
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(TESTED))?;
    // TCP is left alone when the process keeps the host's network;
    // otherwise no rule grants a port.
    if !policy.network {
        ruleset = ruleset.handle_access(AccessNet::from_all(TESTED))?;
    }
    let mut ruleset = ruleset
        .scope(Scope::from_all(TESTED))?
        .create()
        .map_err(unavailable)?;

    let read = AccessFs::from_read(TESTED) & !AccessFs::Execute;
    let exec = AccessFs::from_read(TESTED);
    let write = AccessFs::from_all(TESTED) & !AccessFs::Execute;

    for path in &policy.read_only {
        ruleset = grant(ruleset, path, read, true)?;
    }
    for path in &policy.executable {
        ruleset = grant(ruleset, path, exec, true)?;
    }
    for path in &policy.read_write {
        ruleset = grant(ruleset, path, write, true)?;
    }
    if policy.system_paths {
        for path in SYSTEM_LIBRARIES {
            ruleset = grant(ruleset, Path::new(path), exec, false)?;
        }
        for path in SYSTEM_FILES {
            ruleset = grant(ruleset, Path::new(path), read, false)?;
        }
        for path in SYSTEM_SINKS {
            ruleset = grant(ruleset, Path::new(path), read | AccessFs::WriteFile, false)?;
        }
    }
    if policy.network {
        for path in NETWORK_FILES {
            ruleset = grant(ruleset, Path::new(path), read, false)?;
        }
    }
    Ok(ruleset)
}

/// Adds one path; a missing path is an error when the caller named it, and
/// skipped when it is one of the system defaults this host lacks.
fn grant(
    ruleset: RulesetCreated,
    path: &Path,
    access: BitFlags<AccessFs>,
    required: bool,
) -> Result<RulesetCreated, Error> {
    let path_error = |source| Error::Path {
        path: PathBuf::from(path),
        source,
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(ruleset),
        Err(e) => return Err(path_error(e)),
    };
    // A file takes only the rights that make sense for a file.
    let access = if meta.is_dir() {
        access
    } else {
        access & AccessFs::from_file(TESTED)
    };
    let fd = PathFd::new(path).map_err(|e| path_error(std::io::Error::other(e.to_string())))?;
    Ok(ruleset.add_rule(PathBeneath::new(fd, access))?)
}
