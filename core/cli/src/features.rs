//! The optional parts of `ww`, one cargo feature each, and the refusal a
//! command gets when this binary was built without the part it needs.
//!
//! A trimmed build keeps every command and flag in its CLI, so that asking
//! for a left-out part says which feature it needs (exit status 2) rather
//! than that the flag does not exist.

use std::fmt;

/// Exit status of a command whose feature is compiled out (bad usage of
/// this `ww`).
pub const EXIT_MISSING: i32 = 2;

/// An optional part of `ww`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// Compiling WebAssembly (Cranelift) and `ww compile`.
    Compiler,
    /// Compiling for other machines (`ww compile --target`).
    Cross,
    /// Wasmtime's interpreter (`ww run --target pulley64`).
    Pulley,
    /// File and line in a trapping cell's backtrace, and debugger hooks.
    GuestDebug,
    /// The built-in identity provider.
    Identity,
    /// The built-in libp2p host provider.
    Host,
    /// The built-in routing (Kademlia) provider.
    Routing,
    /// The built-in executor provider.
    Executor,
    /// The built-in IPFS provider and `ww push`.
    Ipfs,
    /// IPFS through a Kubo RPC API (`--ipfs-url`).
    Kubo,
    /// Epochs from an on-chain Atom (`--stem`, `ww push --stem`).
    Stem,
    /// The shell on a terminal and `ww shell MULTIADDR`.
    Shell,
    /// The shell as an MCP server (`--mcp`).
    Mcp,
}

impl Feature {
    /// Every optional part, in the order `ww providers` lists them.
    pub const ALL: [Feature; 13] = [
        Feature::Compiler,
        Feature::Cross,
        Feature::Pulley,
        Feature::GuestDebug,
        Feature::Identity,
        Feature::Host,
        Feature::Routing,
        Feature::Executor,
        Feature::Ipfs,
        Feature::Kubo,
        Feature::Stem,
        Feature::Shell,
        Feature::Mcp,
    ];

    /// The cargo feature's name.
    pub fn name(self) -> &'static str {
        match self {
            Feature::Compiler => "compiler",
            Feature::Cross => "cross",
            Feature::Pulley => "pulley",
            Feature::GuestDebug => "guest-debug",
            Feature::Identity => "identity",
            Feature::Host => "host",
            Feature::Routing => "routing",
            Feature::Executor => "executor",
            Feature::Ipfs => "ipfs",
            Feature::Kubo => "kubo",
            Feature::Stem => "stem",
            Feature::Shell => "shell",
            Feature::Mcp => "mcp",
        }
    }

    /// Whether this binary was built with it.
    pub fn enabled(self) -> bool {
        match self {
            Feature::Compiler => cfg!(feature = "compiler"),
            Feature::Cross => cfg!(feature = "cross"),
            Feature::Pulley => cfg!(feature = "pulley"),
            Feature::GuestDebug => cfg!(feature = "guest-debug"),
            Feature::Identity => cfg!(feature = "identity"),
            Feature::Host => cfg!(feature = "host"),
            Feature::Routing => cfg!(feature = "routing"),
            Feature::Executor => cfg!(feature = "executor"),
            Feature::Ipfs => cfg!(feature = "ipfs"),
            Feature::Kubo => cfg!(feature = "kubo"),
            Feature::Stem => cfg!(feature = "stem"),
            Feature::Shell => cfg!(feature = "shell"),
            Feature::Mcp => cfg!(feature = "mcp"),
        }
    }

    /// `Ok` when this binary has the feature; otherwise the refusal of
    /// `what` (a command or flag, as the user wrote it).
    ///
    /// # Errors
    ///
    /// [`Missing`] when the feature was compiled out.
    pub fn require(self, what: &'static str) -> Result<(), Missing> {
        match self.enabled() {
            true => Ok(()),
            false => Err(Missing {
                what,
                feature: self,
            }),
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A command or flag asked of a `ww` built without the feature it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} needs the `{feature}` feature; this ww was built without it (build ww with \
     `--features {feature}`, or with its default features)"
)]
pub struct Missing {
    /// The command or flag.
    pub what: &'static str,
    /// The feature it needs.
    pub feature: Feature,
}

/// The features this binary was built with, space-separated.
pub fn enabled() -> String {
    let on: Vec<&str> = Feature::ALL
        .iter()
        .filter(|f| f.enabled())
        .map(|f| f.name())
        .collect();
    match on.is_empty() {
        true => "(none)".to_string(),
        false => on.join(" "),
    }
}
