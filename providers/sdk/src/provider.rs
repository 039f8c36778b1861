//! The trait a provider implements, and what `start` is given.

use std::collections::BTreeMap;

use futures::future::LocalBoxFuture;
use ww_capnp::schema::SchemaNode;

use crate::error::Error;
use crate::export::Export;
use crate::manifest::{Manifest, Needs};

/// A capability provider: built into `ww`, or compiled as a `cdylib` and
/// loaded with `--provider` (see [`export!`](crate::export!)).
///
/// Constructing a provider must be cheap and free of side effects: a plugin
/// constructs it once to read the manifest and once more, on its own thread,
/// to start it. Do the work in [`Provider::start`].
pub trait Provider: 'static {
    /// What this provider exports, requires and reads from config.
    fn manifest(&self) -> Manifest;

    /// Starts the provider and returns its exports, one per
    /// [`Manifest::exports`] entry.
    ///
    /// Runs on a tokio current-thread runtime inside a `LocalSet` (the host's
    /// for a built-in provider, the plugin's own for a dynamic one), so
    /// servers may be `!Send` and use [`spawn_local`](crate::spawn_local).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for bad config, [`Error::MissingCapability`] from
    /// [`Context::require`], [`Error::Start`] for anything else.
    fn start(&self, ctx: Context) -> LocalBoxFuture<'static, Result<Vec<Export>, Error>>;

    /// The schema node of each export, by name, known without starting the
    /// provider. `ww providers` lists a built-in provider's methods from
    /// it: starting one to ask may need its configuration, other
    /// providers' capabilities or the network. None by default (its
    /// methods are then not listed); a library or program is asked by
    /// starting it instead, so only built-in providers need this.
    fn schemas(&self) -> Vec<(String, SchemaNode)> {
        Vec::new()
    }

    /// What this provider needs from its jail when it runs as a process
    /// ([`serve`](crate::serve())): nothing beyond the default unless
    /// overridden (a provider that opens sockets needs the network).
    fn needs(&self) -> Needs {
        Needs::default()
    }
}

/// [`Provider::schemas`] for exports whose interfaces are among ww's own
/// schemas (`ww_capnp`): each name with the node of the interface
/// `type_id`. A pair whose node is missing is left out (its methods are
/// then not listed).
pub fn builtin_schemas(exports: &[(&str, u64)]) -> Vec<(String, SchemaNode)> {
    let set = ww_capnp::schema::builtin();
    exports
        .iter()
        .filter_map(|(name, id)| Some((name.to_string(), SchemaNode::from_set(&set, *id).ok()?)))
        .collect()
}

/// What a provider is started with: its config values and the capabilities
/// of the providers it requires.
#[derive(Clone, Debug, Default)]
pub struct Context {
    config: BTreeMap<String, String>,
    requires: Vec<Export>,
}

impl Context {
    /// A context with these config values and required capabilities.
    pub fn new(config: BTreeMap<String, String>, requires: Vec<Export>) -> Self {
        Context { config, requires }
    }

    /// The value given for `key`, if any.
    pub fn config(&self, key: &str) -> Option<&str> {
        self.config.get(key).map(String::as_str)
    }

    /// The value given for `key`, or [`Error::Config`] saying it is required.
    ///
    /// # Errors
    ///
    /// When no value was given.
    pub fn required_config(&self, key: &str) -> Result<&str, Error> {
        self.config(key).ok_or_else(|| Error::Config {
            key: key.to_string(),
            reason: "is required but was not given".to_string(),
        })
    }

    /// The required capability called `name`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingCapability`] naming it when it was not handed over.
    pub fn require(&self, name: &str) -> Result<Export, Error> {
        self.requires
            .iter()
            .find(|e| e.name == name)
            .cloned()
            .ok_or_else(|| Error::MissingCapability {
                name: name.to_string(),
            })
    }

    /// Every required capability handed over.
    pub fn requires(&self) -> &[Export] {
        &self.requires
    }
}
