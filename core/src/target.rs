//! The machine compiled code is for.
//!
//! A node runs code for its own host. A full build can also compile for
//! another one (`ww compile --target aarch64-unknown-linux-gnu`), so that a
//! small host runs a runtime-only `ww` on code it never compiles itself,
//! and for Pulley, Wasmtime's portable interpreter (`pulley64`), which runs
//! on any host, including one without a Cranelift backend.
//!
//! Compiled code is only as portable as the target names it: the compile
//! cache keys artefacts by the target's architecture and operating system
//! (see [`cache::engine_key`](crate::cache::engine_key)), and Wasmtime
//! checks the rest (its version, CPU features) when it loads one.

use std::fmt;
use std::str::FromStr;

use target_lexicon::{Architecture, Triple};

/// A target triple, or the host's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    triple: Triple,
    /// Given by the operator (not the host's own).
    given: bool,
    /// As the operator spelled it (`pulley64`, not target-lexicon's
    /// `pulley64-unknown-unknown-elf`).
    name: String,
}

/// Why a target was refused.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Not a triple target-lexicon knows.
    #[error(
        "`{given}` is not a target triple: name one such as aarch64-unknown-linux-gnu, \
         x86_64-unknown-linux-gnu, riscv64gc-unknown-linux-gnu or pulley64 ({reason})"
    )]
    Unknown {
        /// What was given.
        given: String,
        /// The parser's reason.
        reason: String,
    },
    /// Code for it cannot run on this host.
    #[error(
        "code for {target} cannot run on this {host} host: a node runs code for its own host, \
         or for Pulley (pulley32, pulley64); compile for {target} with `ww compile --target \
         {target}` and run it there"
    )]
    NotRunnable {
        /// The target.
        target: String,
        /// This host.
        host: String,
    },
}

impl Target {
    /// The host this `ww` runs on.
    pub fn host() -> Target {
        let triple = Triple::host();
        Target {
            name: triple.to_string(),
            triple,
            given: false,
        }
    }

    /// The target named by `triple`.
    ///
    /// # Errors
    ///
    /// [`TargetError::Unknown`] when `triple` names no target.
    pub fn parse(triple: &str) -> Result<Target, TargetError> {
        let parsed = Triple::from_str(triple).map_err(|e| TargetError::Unknown {
            given: triple.to_string(),
            reason: e.to_string(),
        })?;
        if parsed.architecture == Architecture::Unknown {
            return Err(TargetError::Unknown {
                given: triple.to_string(),
                reason: "unknown architecture".into(),
            });
        }
        let host = Triple::host();
        // The host's own triple, spelled out, is the host.
        let given = !(parsed.architecture == host.architecture
            && parsed.operating_system == host.operating_system
            && parsed.environment == host.environment);
        Ok(match given {
            true => Target {
                triple: parsed,
                given,
                name: triple.to_string(),
            },
            false => Target::host(),
        })
    }

    /// The triple to hand Wasmtime, or `None` for the host's own (which
    /// Wasmtime then tunes to this CPU's features).
    pub fn wasmtime_target(&self) -> Option<String> {
        self.given.then(|| self.name.clone())
    }

    /// Whether this is Pulley, Wasmtime's interpreter.
    pub fn is_pulley(&self) -> bool {
        matches!(
            self.triple.architecture,
            Architecture::Pulley32
                | Architecture::Pulley64
                | Architecture::Pulley32be
                | Architecture::Pulley64be
        )
    }

    /// Whether code for this target runs on this host: its own, or Pulley
    /// when this build has the interpreter.
    pub fn runs_here(&self) -> bool {
        !self.given || (self.is_pulley() && cfg!(feature = "pulley"))
    }

    /// Refuses a target whose code cannot run here.
    ///
    /// # Errors
    ///
    /// [`TargetError::NotRunnable`].
    pub fn check_runs_here(&self) -> Result<(), TargetError> {
        if self.runs_here() {
            return Ok(());
        }
        Err(TargetError::NotRunnable {
            target: self.to_string(),
            host: Triple::host().architecture.to_string(),
        })
    }

    /// What the compile cache keys artefacts by: the architecture and the
    /// operating system.
    pub(crate) fn key_parts(&self) -> (String, String) {
        (
            self.triple.architecture.to_string(),
            self.triple.operating_system.to_string(),
        )
    }
}

impl Default for Target {
    fn default() -> Self {
        Target::host()
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl FromStr for Target {
    type Err = TargetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_own_triple_is_the_host() {
        let host = Target::host();
        assert_eq!(host.wasmtime_target(), None);
        assert!(host.runs_here());
        let spelled = Target::parse(&Triple::host().to_string()).unwrap();
        assert_eq!(spelled, host);
    }

    #[test]
    fn another_architecture_compiles_but_does_not_run_here() {
        let other = if cfg!(target_arch = "aarch64") {
            "x86_64-unknown-linux-gnu"
        } else {
            "aarch64-unknown-linux-gnu"
        };
        let target = Target::parse(other).unwrap();
        assert_eq!(target.wasmtime_target().as_deref(), Some(other));
        assert!(!target.is_pulley());
        let err = target.check_runs_here().unwrap_err().to_string();
        assert!(err.contains("cannot run on this"), "{err}");
        assert!(err.contains("ww compile --target"), "{err}");
    }

    #[test]
    fn pulley_runs_here_only_with_the_interpreter() {
        let pulley = Target::parse("pulley64").unwrap();
        assert!(pulley.is_pulley());
        assert_eq!(pulley.runs_here(), cfg!(feature = "pulley"));
        assert_eq!(pulley.key_parts().0, "pulley64");
    }

    #[test]
    fn a_name_that_is_no_triple_is_refused_with_examples() {
        let err = Target::parse("armish").unwrap_err().to_string();
        assert!(err.contains("`armish` is not a target triple"), "{err}");
        assert!(err.contains("aarch64-unknown-linux-gnu"), "{err}");
    }

    #[test]
    fn keys_match_the_names_rust_gives_the_host() {
        let (arch, os) = Target::host().key_parts();
        assert_eq!(arch, std::env::consts::ARCH);
        assert_eq!(os, std::env::consts::OS);
    }
}
