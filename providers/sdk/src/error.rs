//! Everything that can go wrong between the core and a provider, each with
//! what to do about it.

use std::path::PathBuf;

use crate::fingerprint::{self, Fingerprint};

/// A provider failed to load, configure, start or serve.
#[derive(thiserror::Error, Debug)]
pub enum Error {
    /// A config value is missing or unusable.
    #[error("provider config `{key}`: {reason}; fix the value given for `{key}`")]
    Config {
        /// The config key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A capability the provider requires was not handed to it.
    #[error(
        "required capability `{name}` was not provided; declare it in the manifest's \
         `requires` and start a provider that exports it"
    )]
    MissingCapability {
        /// The capability's name.
        name: String,
    },

    /// The provider's `start` failed.
    #[error("provider `{provider}` failed to start: {reason}; check its configuration and logs")]
    Start {
        /// The provider's name.
        provider: String,
        /// Why it failed.
        reason: String,
    },

    /// A Cap'n Proto call or message failed.
    #[error("Cap'n Proto: {0}; if the provider died, its log events above say why")]
    Capnp(#[from] capnp::Error),

    /// The shared library could not be opened.
    #[error("cannot open provider library {}: {reason}; check the path and that it is a shared library for this machine", path.display())]
    Open {
        /// The library's path.
        path: PathBuf,
        /// The loader's reason.
        reason: String,
    },

    /// The library does not export `ww_provider_fingerprint`.
    #[error(
        "{} is not a ww provider (it has no `ww_provider_fingerprint` symbol); \
         build it with ww-provider-sdk and its `export!` macro",
        path.display()
    )]
    NotAProvider {
        /// The library's path.
        path: PathBuf,
    },

    /// The library's fingerprint is unreadable.
    #[error(
        "{} has an unreadable provider fingerprint {text:?}; rebuild it with this ww's ww-provider-sdk",
        path.display()
    )]
    BadFingerprint {
        /// The library's path.
        path: PathBuf,
        /// What the library returned.
        text: String,
    },

    /// The library was built for another FFI ABI, provider protocol or
    /// target.
    #[error(
        "{} was built for a different ww: {}; rebuild the provider against a ww-provider-sdk \
         of this ww's ABI and provider protocol, for this target (host: {host}; plugin: \
         {plugin})",
        path.display(),
        fingerprint::describe(host, plugin)
    )]
    FingerprintMismatch {
        /// The library's path.
        path: PathBuf,
        /// This host's fingerprint (boxed to keep `Error` small).
        host: Box<Fingerprint>,
        /// The library's fingerprint (boxed to keep `Error` small).
        plugin: Box<Fingerprint>,
    },

    /// abi_stable found the library's types laid out differently from ours.
    #[error(
        "{} has an incompatible ABI layout:\n{}\nrebuild the provider against this ww's ww-provider-sdk",
        path.display(),
        errors.join("\n")
    )]
    Layout {
        /// The library's path.
        path: PathBuf,
        /// The lines of abi_stable's report that start with "Error:".
        errors: Vec<String>,
    },

    /// The library's entry points reported a failure.
    #[error("provider library {}: {reason}", path.display())]
    Plugin {
        /// The library's path.
        path: PathBuf,
        /// What the plugin reported.
        reason: String,
    },

    /// The provider panicked; the panic was contained.
    #[error("provider `{provider}` panicked: {message}; report this to the provider's authors")]
    Panicked {
        /// The provider's name.
        provider: String,
        /// The panic message.
        message: String,
    },
}

impl Error {
    /// What went wrong, without the provider's name when this error
    /// already sits under one (a registry's "provider `kv` (…) failed to
    /// start: …"): a failed start's own reason, else the whole message.
    pub fn reason(&self) -> String {
        match self {
            Error::Start { reason, .. } => reason.clone(),
            other => other.to_string(),
        }
    }
}

/// The message of a caught panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}
