//! What a provider declares before it runs.
//!
//! The core reads every manifest first, so it can order providers by their
//! requirements, refuse two providers exporting one name, and tell an operator
//! which config keys exist — all without starting anything.

/// A provider's declaration: its name, what it exports and requires, and the
/// configuration it accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// Unique provider name (e.g. "identity"); names its log events and errors.
    pub name: String,
    /// The provider's version, usually `env!("CARGO_PKG_VERSION")`.
    pub version: String,
    /// The capabilities `start` returns, by name, and who may receive each.
    pub exports: Vec<ExportDecl>,
    /// Names of capabilities (exported by other providers) that must be
    /// started first and handed to this provider's `start`.
    pub requires: Vec<String>,
    /// The configuration keys this provider reads.
    pub config: Vec<ConfigKey>,
}

/// One capability a provider promises to export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportDecl {
    /// The export's name, unique across all providers of a node.
    pub name: String,
    /// Who may receive it.
    pub audience: Audience,
}

/// Who may receive an exported capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Guests (cells) receive it through the membrane, and providers may
    /// require it too.
    Guests,
    /// Only other providers may receive it, never a guest: for host-level
    /// authority (raw sockets, the DHT) that providers attenuate first.
    Providers,
}

/// One configuration key a provider reads (`ww run --config KEY=VALUE`),
/// so the core can refuse a key no provider reads, or a required key
/// missing, before any provider starts (exit status 2, naming the key and
/// the providers' keys), and `ww providers` can list them. All providers of
/// a node share one set of keys: prefix yours with the provider's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigKey {
    /// The key, as the operator spells it.
    pub key: String,
    /// One line telling the operator what the value is.
    pub help: String,
    /// Whether the provider refuses to start without it.
    pub required: bool,
}

impl Manifest {
    /// The declared export called `name`, if any.
    pub fn export(&self, name: &str) -> Option<&ExportDecl> {
        self.exports.iter().find(|e| e.name == name)
    }
}

/// What a provider *process* asks of its jail beyond the default (its
/// program, the system libraries, a scratch directory and its socket on
/// fd 3). A node grants a need only when its operator did
/// (`ww run --provider-grant NAME:network`, `NAME:ro=PATH`,
/// `NAME:rw=PATH`), and refuses to start the provider otherwise, naming the
/// flag. Built in or loaded as a library, a provider runs inside the node
/// and its needs are not consulted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// The host's network (e.g. a libp2p swarm, a client of a service).
    pub network: bool,
    /// Absolute host paths it reads.
    pub read: Vec<String>,
    /// Absolute host paths it reads and writes.
    pub write: Vec<String>,
}

impl Needs {
    /// Whether nothing beyond the default is asked.
    pub fn is_empty(&self) -> bool {
        !self.network && self.read.is_empty() && self.write.is_empty()
    }
}
