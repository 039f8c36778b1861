//! The provider registry: which providers run, in what order, with what.
//!
//! Built-in providers are handed over by the application that links them
//! (the registry names no provider type); dynamic ones come
//! from `--provider PATH`: a shared library, loaded in-process
//! ([`ww_provider_sdk::host`]), or an executable, run as a provider
//! process ([`process`]; [`kind`] tells which). A dynamic provider that exports a name a built-in
//! exports replaces that built-in (that is how an operator swaps in another
//! backend); two dynamic providers exporting one name is an error. Each
//! provider's `requires` names capabilities other providers export; the
//! registry starts providers in dependency order and refuses a missing or
//! cyclic requirement before starting anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::rc::Rc;

use ww_provider_sdk::host::Library;
use ww_provider_sdk::manifest::{Audience, Manifest};
use ww_provider_sdk::provider::{Context, Provider};
use ww_provider_sdk::Export;

pub mod exports;
pub mod grants;
pub mod kind;
pub mod life;
pub mod link;
pub mod logs;
pub mod process;
pub mod restart;

pub use exports::Exports;
use process::{ProcessError, ProcessHost, ProcessProvider};

/// Why the providers could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A `--provider` library was refused (not a provider, ABI skew, ...):
    /// exit status 2, like every refusal of the command line.
    #[error(transparent)]
    Load(#[from] ww_provider_sdk::error::Error),
    /// A `--provider` program was refused (no handshake, another
    /// protocol, a need not granted, ...).
    #[error(transparent)]
    Process(Box<ProcessError>),
    /// A `--provider` path that cannot be read.
    #[error("cannot read provider {}: {source}; check the path", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A provider process could not start.
    #[error(
        "provider `{provider}` ({origin}) failed to start: {}",
        process_reason(source)
    )]
    ProcessStart {
        /// The provider.
        provider: String,
        /// Its program.
        origin: String,
        /// The cause.
        source: Box<process::StartError>,
    },
    /// Two `--provider`s export the same capability.
    #[error("capability `{name}` is exported by both {first} and {second}; load only one of them")]
    DuplicateExport {
        /// The capability name.
        name: String,
        /// One provider.
        first: String,
        /// The other.
        second: String,
    },
    /// A requirement no loaded provider exports.
    #[error("provider `{provider}` requires `{requirement}`, which no loaded provider exports; load one with --provider or use a ww built with that provider")]
    Missing {
        /// The provider.
        provider: String,
        /// What it requires.
        requirement: String,
    },
    /// Providers that require each other.
    #[error("providers require each other in a cycle: {}; break the cycle", cycle.join(" → "))]
    Cycle {
        /// The providers in the cycle, first repeated at the end.
        cycle: Vec<String>,
    },
    /// A required configuration key has no value.
    #[error(
        "provider `{provider}` needs configuration `{key}` ({help}); pass --config {key}=VALUE \
         (its keys: {known})"
    )]
    MissingConfig {
        /// The provider.
        provider: String,
        /// The key.
        key: String,
        /// What the key is for.
        help: String,
        /// Every key the provider reads, with whether it is required.
        known: String,
    },
    /// A `--config` key no loaded provider reads.
    #[error(
        "--config {key}: no provider of this node reads `{key}`; {}; check the spelling, or \
         load the provider that reads it",
        known_keys(known)
    )]
    UnknownConfig {
        /// The key given.
        key: String,
        /// Each provider that reads configuration, with its keys.
        known: Vec<(String, String)>,
    },
    /// A provider failed to start.
    #[error(
        "provider `{provider}` ({origin}) failed to start: {}",
        start_reason(source)
    )]
    Start {
        /// The provider.
        provider: String,
        /// Built in, or its library path.
        origin: String,
        /// The cause.
        source: ww_provider_sdk::error::Error,
    },
    /// A provider's exports differ from what its manifest declared.
    #[error("provider `{provider}` declared exports [{}] but started with [{}]; this is a bug in the provider", declared.join(", "), actual.join(", "))]
    Undeclared {
        /// The provider.
        provider: String,
        /// Declared names.
        declared: Vec<String>,
        /// Names it actually returned.
        actual: Vec<String>,
    },
}

/// "the keys providers read: ipfs: ipfs-url, ipfs-store-max; …", or that
/// none reads any.
fn known_keys(known: &[(String, String)]) -> String {
    if known.is_empty() {
        return "no provider of this node reads any configuration".to_string();
    }
    let each: Vec<String> = known
        .iter()
        .map(|(p, keys)| format!("`{p}`: {keys}"))
        .collect();
    format!("the keys its providers read are {}", each.join("; "))
}

/// A manifest's keys for an error: "path (required), mode".
fn keys_of(manifest: &Manifest) -> String {
    if manifest.config.is_empty() {
        return "none".to_string();
    }
    manifest
        .config
        .iter()
        .map(|k| match k.required {
            true => format!("{} (required)", k.key),
            false => k.key.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A start failure's reason under a message that already names the
/// provider: its own reason, with what to do.
fn start_reason(source: &ww_provider_sdk::error::Error) -> String {
    match source {
        ww_provider_sdk::error::Error::Start { reason, .. } => {
            format!("{reason}; check its configuration and logs")
        }
        ww_provider_sdk::error::Error::Config { key, reason } => format!(
            "it refused its configuration `{key}`: {reason}; give `{key}` a valid value \
             (--config {key}=VALUE, or the flag that sets it; `ww providers` describes each key)"
        ),
        other => other.to_string(),
    }
}

/// [`start_reason`] for a provider process.
fn process_reason(source: &process::StartError) -> String {
    match source {
        process::StartError::Provider(e) => start_reason(e),
        other => other.to_string(),
    }
}

impl From<ProcessError> for RegistryError {
    fn from(e: ProcessError) -> RegistryError {
        RegistryError::Process(Box::new(e))
    }
}

impl RegistryError {
    /// The exit status `ww` ends with: 2 for what the operator must change
    /// in how ww is run (a protocol mismatch, an ungranted need, a
    /// configuration value a provider refused), 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            // A path that is no provider (of this ww), a config key that
            // is unknown or missing: the command line must change.
            RegistryError::Load(_)
            | RegistryError::Read { .. }
            | RegistryError::MissingConfig { .. }
            | RegistryError::UnknownConfig { .. } => 2,
            RegistryError::Process(e) => e.exit_code(),
            // A value the provider refused: the command line must change
            // too, whether the provider is built in, a library or a process.
            RegistryError::Start {
                source: ww_provider_sdk::error::Error::Config { .. },
                ..
            } => 2,
            RegistryError::ProcessStart { source, .. } => match source.as_ref() {
                process::StartError::Process(e) => e.exit_code(),
                process::StartError::Provider(ww_provider_sdk::error::Error::Config { .. }) => 2,
                process::StartError::Provider(_) => 1,
            },
            _ => 1,
        }
    }
}

/// Where a provider comes from.
pub enum Source {
    /// Linked into this binary.
    Builtin(Box<dyn Provider>),
    /// Loaded from a shared library.
    Library(Box<Library>),
    /// Run as a process.
    Process(Rc<ProcessProvider>),
}

/// A `--provider` path, loaded (a few per node: their size does not matter).
#[allow(clippy::large_enum_variant)]
pub enum Loaded {
    /// A shared library.
    Library(Library),
    /// A provider process.
    Process(ProcessProvider),
}

/// One provider and its manifest.
pub struct Entry {
    /// What it exports, requires and reads.
    pub manifest: Manifest,
    /// How to start it.
    pub source: Source,
}

impl Entry {
    /// A built-in provider.
    pub fn builtin(provider: Box<dyn Provider>) -> Entry {
        Entry {
            manifest: provider.manifest(),
            source: Source::Builtin(provider),
        }
    }

    /// A provider from a loaded library.
    pub fn library(library: Library) -> Entry {
        Entry {
            manifest: library.manifest.clone(),
            source: Source::Library(Box::new(library)),
        }
    }

    /// A provider process, loaded.
    pub fn process(process: ProcessProvider) -> Entry {
        Entry {
            manifest: process.hello.manifest.clone(),
            source: Source::Process(Rc::new(process)),
        }
    }

    /// A loaded `--provider`.
    pub fn loaded(loaded: Loaded) -> Entry {
        match loaded {
            Loaded::Library(library) => Entry::library(library),
            Loaded::Process(process) => Entry::process(process),
        }
    }

    /// "built in", or the library or program path.
    pub fn origin(&self) -> String {
        match &self.source {
            Source::Builtin(_) => "built in".to_string(),
            Source::Library(lib) => lib.path.display().to_string(),
            Source::Process(p) => p.path.display().to_string(),
        }
    }
}

/// Whether any of `paths` is an executable (a provider process).
///
/// # Errors
///
/// A path that cannot be read.
pub fn any_process(paths: &[PathBuf]) -> Result<bool, RegistryError> {
    for path in paths {
        if kind_of(path)? == kind::Kind::Executable {
            return Ok(true);
        }
    }
    Ok(false)
}

fn kind_of(path: &std::path::Path) -> Result<kind::Kind, RegistryError> {
    kind::of(path).map_err(|source| RegistryError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Loads each `--provider` path: a library is checked (fingerprint,
/// layout) and opened; an executable is started and its handshake read,
/// through `processes` (required when any path is an executable). Must
/// run inside a `LocalSet`.
///
/// # Errors
///
/// The first provider that is refused.
pub async fn load(
    paths: &[PathBuf],
    processes: Option<&Rc<ProcessHost>>,
) -> Result<Vec<Loaded>, RegistryError> {
    let mut loaded = Vec::new();
    for path in paths {
        loaded.push(match (kind_of(path)?, processes) {
            (kind::Kind::Executable, Some(host)) => {
                Loaded::Process(ProcessProvider::load(path, host).await?)
            }
            _ => Loaded::Library(ww_provider_sdk::host::load(path)?),
        });
    }
    Ok(loaded)
}

/// Providers in start order, checked.
pub struct Plan {
    entries: Vec<Entry>,
}

impl Plan {
    /// Applies replacement, refuses duplicates, orders by requirement.
    ///
    /// # Errors
    ///
    /// Duplicate exports, missing or cyclic requirements.
    pub fn new(
        builtins: Vec<Box<dyn Provider>>,
        libraries: Vec<Loaded>,
    ) -> Result<Plan, RegistryError> {
        let libraries: Vec<Entry> = libraries.into_iter().map(Entry::loaded).collect();
        let replaced: BTreeSet<&str> = libraries
            .iter()
            .flat_map(|e| e.manifest.exports.iter().map(|x| x.name.as_str()))
            .collect();
        let mut entries = Vec::new();
        for entry in builtins.into_iter().map(Entry::builtin) {
            match entry
                .manifest
                .exports
                .iter()
                .find(|x| replaced.contains(x.name.as_str()))
            {
                Some(x) => tracing::info!(
                    "a --provider exports `{}`: it replaces the built-in provider `{}`",
                    x.name,
                    entry.manifest.name
                ),
                None => entries.push(entry),
            }
        }
        entries.extend(libraries);

        let mut exporter: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, entry) in entries.iter().enumerate() {
            for x in &entry.manifest.exports {
                if let Some(&j) = exporter.get(x.name.as_str()) {
                    return Err(RegistryError::DuplicateExport {
                        name: x.name.clone(),
                        first: describe(&entries[j]),
                        second: describe(entry),
                    });
                }
                exporter.insert(&x.name, i);
            }
        }
        let mut deps = Vec::with_capacity(entries.len());
        for entry in &entries {
            let mut of = Vec::new();
            for requirement in &entry.manifest.requires {
                match exporter.get(requirement.as_str()) {
                    Some(&j) => of.push(j),
                    None => {
                        return Err(RegistryError::Missing {
                            provider: entry.manifest.name.clone(),
                            requirement: requirement.clone(),
                        })
                    }
                }
            }
            deps.push(of);
        }
        let order = topological_order(&deps).map_err(|cycle| RegistryError::Cycle {
            cycle: cycle
                .iter()
                .map(|&i| entries[i].manifest.name.clone())
                .collect(),
        })?;
        let mut slots: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
        let entries = order.into_iter().filter_map(|i| slots[i].take()).collect();
        Ok(Plan { entries })
    }

    /// Checks the configuration before anything starts: every key of
    /// `given` (the operator's `--config`) must be read by some provider,
    /// and every key a provider requires must be in `given` or
    /// `supplied` (what the node sets itself, from its own flags).
    ///
    /// # Errors
    ///
    /// [`RegistryError::UnknownConfig`] naming the key and what each
    /// provider reads, or [`RegistryError::MissingConfig`] naming the
    /// provider, the key and its keys.
    pub fn check_config(
        &self,
        given: &BTreeMap<String, String>,
        supplied: &BTreeMap<String, String>,
    ) -> Result<(), RegistryError> {
        for key in given.keys() {
            if !self.reads(key) {
                return Err(RegistryError::UnknownConfig {
                    key: key.clone(),
                    known: self
                        .entries
                        .iter()
                        .filter(|e| !e.manifest.config.is_empty())
                        .map(|e| (e.manifest.name.clone(), keys_of(&e.manifest)))
                        .collect(),
                });
            }
        }
        for entry in &self.entries {
            let manifest = &entry.manifest;
            if let Some(key) = manifest.config.iter().find(|k| {
                k.required && !given.contains_key(&k.key) && !supplied.contains_key(&k.key)
            }) {
                return Err(RegistryError::MissingConfig {
                    provider: manifest.name.clone(),
                    key: key.key.clone(),
                    help: key.help.clone(),
                    known: keys_of(manifest),
                });
            }
        }
        Ok(())
    }

    /// Whether any provider declares configuration `key`.
    pub fn reads(&self, key: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.manifest.config.iter().any(|k| k.key == key))
    }

    /// The providers, in the order they will start.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Starts every provider in order, handing each the configuration keys
    /// its manifest declares (from `settings`) and the exports it requires.
    /// Must run inside a tokio `LocalSet`.
    ///
    /// # Errors
    ///
    /// Missing configuration, a provider that fails to start, or one whose
    /// exports differ from its manifest.
    pub async fn start(
        self,
        settings: &BTreeMap<String, String>,
    ) -> Result<Started, RegistryError> {
        let started = Started::default();
        for entry in self.entries {
            let manifest = &entry.manifest;
            let mut config = BTreeMap::new();
            for key in &manifest.config {
                match settings.get(&key.key) {
                    Some(value) => {
                        config.insert(key.key.clone(), value.clone());
                    }
                    None if key.required => {
                        return Err(RegistryError::MissingConfig {
                            provider: manifest.name.clone(),
                            key: key.key.clone(),
                            help: key.help.clone(),
                            known: keys_of(manifest),
                        })
                    }
                    None => {}
                }
            }
            let requires: Vec<Export> = manifest
                .requires
                .iter()
                .filter_map(|name| started.exports.get(name))
                .collect();
            let origin = entry.origin();
            let start_error = |source| RegistryError::Start {
                provider: manifest.name.clone(),
                origin: origin.clone(),
                source,
            };
            let exports = match &entry.source {
                Source::Builtin(provider) => provider
                    .start(Context::new(config, requires))
                    .await
                    .map_err(start_error)?,
                Source::Library(library) => {
                    library.start(config, requires).await.map_err(start_error)?
                }
                Source::Process(process) => {
                    let (exports, life) = process
                        .start(config.clone(), requires.clone())
                        .await
                        .map_err(|source| RegistryError::ProcessStart {
                            provider: manifest.name.clone(),
                            origin: origin.clone(),
                            source: Box::new(source),
                        })?;
                    tracing::info!(
                        target: "ww::provider",
                        provider = %manifest.name,
                        "provider `{}` runs as process {} ({}, {})",
                        manifest.name,
                        life.pid,
                        origin,
                        process.hello.implementation
                    );
                    tokio::task::spawn_local(restart::supervise(
                        process.clone(),
                        life,
                        config,
                        requires,
                        started.exports.clone(),
                    ));
                    exports
                }
            };
            let declared: BTreeSet<&str> =
                manifest.exports.iter().map(|x| x.name.as_str()).collect();
            let actual: BTreeSet<&str> = exports.iter().map(|x| x.name.as_str()).collect();
            if declared != actual {
                return Err(RegistryError::Undeclared {
                    provider: manifest.name.clone(),
                    declared: declared.iter().map(|s| s.to_string()).collect(),
                    actual: actual.iter().map(|s| s.to_string()).collect(),
                });
            }
            tracing::debug!(provider = %manifest.name, %origin, "provider started");
            for export in exports {
                let audience = manifest
                    .exports
                    .iter()
                    .find(|x| x.name == export.name)
                    .map(|x| x.audience)
                    .unwrap_or(Audience::Providers);
                started.exports.push(audience, export);
            }
        }
        Ok(started)
    }
}

fn describe(entry: &Entry) -> String {
    format!("`{}` ({})", entry.manifest.name, entry.origin())
}

/// Kahn's algorithm over "i requires deps[i]"; on a cycle, returns one.
fn topological_order(deps: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let n = deps.len();
    let mut order = Vec::with_capacity(n);
    let mut done = vec![false; n];
    while order.len() < n {
        let ready = (0..n).find(|&i| !done[i] && deps[i].iter().all(|&d| done[d]));
        match ready {
            Some(i) => {
                done[i] = true;
                order.push(i);
            }
            None => {
                // Every remaining node waits on another remaining one: walk
                // requirements until a node repeats.
                let mut path = vec![(0..n).find(|&i| !done[i]).unwrap_or(0)];
                loop {
                    let last = *path.last().unwrap_or(&0);
                    let next = deps[last]
                        .iter()
                        .copied()
                        .find(|&d| !done[d])
                        .unwrap_or(last);
                    if let Some(pos) = path.iter().position(|&p| p == next) {
                        let mut cycle = path.split_off(pos);
                        cycle.push(next);
                        return Err(cycle);
                    }
                    path.push(next);
                }
            }
        }
    }
    Ok(order)
}

/// The exports of every started provider.
#[derive(Default)]
pub struct Started {
    exports: Exports,
}

impl Started {
    /// What cells may graft now (exports meant for guests).
    pub fn guest_exports(&self) -> Vec<Export> {
        self.exports.guests()
    }

    /// The live table, which a restarted provider's exports replace: what
    /// a membrane grafts from.
    pub fn exports(&self) -> Exports {
        self.exports.clone()
    }
}

#[cfg(test)]
mod tests;
