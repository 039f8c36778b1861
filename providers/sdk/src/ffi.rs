//! What crosses the shared-library boundary: FFI-safe types only.
//!
//! Two C entry points, defined here once for every provider (a provider
//! crate's [`export!`](crate::export!) only registers its factory):
//!
//! - `ww_provider_fingerprint`, a plain C function returning the
//!   [fingerprint](crate::fingerprint) as a NUL-terminated string, read
//!   before anything else;
//! - the abi_stable root module [`ProviderModRef`], whose layout abi_stable
//!   checks at load, with two functions: `manifest` and `connect`.
//!
//! `connect` exchanges two [`ByteSink`]s — one each way — and a [`LogSink`];
//! everything else flows as Cap'n Proto bytes through the sinks. Both
//! directions push (callbacks), nobody blocks on a receive.
//!
//! Every exported function catches panics and returns `RErr`: a panic
//! unwinding out of an `extern "C"` function aborts the whole process.

#![allow(missing_docs)] // abi_stable's derives generate undocumented items.

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RResult, RSlice, RStr, RString, RVec};
use abi_stable::{export_root_module, sabi_trait, StableAbi};

use crate::error::panic_message;
use crate::manifest::{Audience, ConfigKey, ExportDecl, Manifest};

/// The symbol the loader looks up first.
pub const FINGERPRINT_SYMBOL: &[u8] = b"ww_provider_fingerprint\0";

/// The fingerprint of the SDK this library was built with, as a static
/// NUL-terminated UTF-8 string.
#[no_mangle]
pub extern "C" fn ww_provider_fingerprint() -> *const c_char {
    static TEXT: OnceLock<CString> = OnceLock::new();
    let text = catch_unwind(|| {
        TEXT.get_or_init(|| {
            // A fingerprint has no NUL; if it ever did, announce nothing usable.
            CString::new(crate::fingerprint::current().to_string()).unwrap_or_default()
        })
        .as_ptr()
    });
    // A panic here could only come from the allocator; an empty string makes
    // the host refuse the library as unreadable.
    text.unwrap_or(c"".as_ptr())
}

/// A byte sink on the other side of the boundary (one per direction).
#[sabi_trait]
pub trait ByteSink: Send + Sync {
    /// Queues `bytes` for the peer; false when the peer is gone or its queue
    /// is full (the link is then broken).
    fn send(&self, bytes: RSlice<'_, u8>) -> bool;

    /// No more bytes will follow; the peer reads end-of-stream.
    fn close(&self);
}

/// A boxed [`ByteSink`] from the other side.
pub type ByteSinkBox = ByteSink_TO<'static, abi_stable::std_types::RBox<()>>;

/// The host's receiver of the plugin's `tracing` events.
#[sabi_trait]
pub trait LogSink: Send + Sync {
    /// One event: level (1 = error … 5 = trace), target, message with fields.
    fn log(&self, level: u8, target: RStr<'_>, message: RStr<'_>);
}

/// A boxed [`LogSink`] from the host.
pub type LogSinkBox = LogSink_TO<'static, abi_stable::std_types::RBox<()>>;

/// What the host hands the plugin at `connect`.
#[repr(C)]
#[derive(StableAbi)]
pub struct HostLink {
    /// Where the plugin writes its vat's bytes.
    pub to_host: ByteSinkBox,
    /// Where the plugin sends its log events.
    pub log: LogSinkBox,
    /// The most verbose level the host records (0 = off … 5 = trace), so
    /// the plugin does not format events nobody will see.
    pub max_level: u8,
}

/// What the plugin hands back from `connect`.
#[repr(C)]
#[derive(StableAbi)]
pub struct PluginLink {
    /// Where the host writes its vat's bytes.
    pub to_plugin: ByteSinkBox,
}

/// The manifest, FFI-safe.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiManifest {
    pub name: RString,
    pub version: RString,
    /// Pairs of (export name, audience: 0 guests, 1 providers).
    pub exports: RVec<FfiExportDecl>,
    pub requires: RVec<RString>,
    pub config: RVec<FfiConfigKey>,
}

#[repr(C)]
#[derive(StableAbi)]
pub struct FfiExportDecl {
    pub name: RString,
    /// 0 = guests, 1 = providers.
    pub audience: u8,
}

#[repr(C)]
#[derive(StableAbi)]
pub struct FfiConfigKey {
    pub key: RString,
    pub help: RString,
    pub required: bool,
}

impl From<&Manifest> for FfiManifest {
    fn from(m: &Manifest) -> Self {
        FfiManifest {
            name: m.name.as_str().into(),
            version: m.version.as_str().into(),
            exports: m
                .exports
                .iter()
                .map(|e| FfiExportDecl {
                    name: e.name.as_str().into(),
                    audience: match e.audience {
                        Audience::Guests => 0,
                        Audience::Providers => 1,
                    },
                })
                .collect(),
            requires: m.requires.iter().map(|r| r.as_str().into()).collect(),
            config: m
                .config
                .iter()
                .map(|c| FfiConfigKey {
                    key: c.key.as_str().into(),
                    help: c.help.as_str().into(),
                    required: c.required,
                })
                .collect(),
        }
    }
}

impl FfiManifest {
    /// Back to a [`Manifest`].
    ///
    /// # Errors
    ///
    /// When an audience code is unknown.
    pub fn to_manifest(&self) -> Result<Manifest, String> {
        let exports = self
            .exports
            .iter()
            .map(|e| {
                let audience = match e.audience {
                    0 => Audience::Guests,
                    1 => Audience::Providers,
                    other => {
                        return Err(format!("export `{}` has unknown audience {other}", e.name))
                    }
                };
                Ok(ExportDecl {
                    name: e.name.to_string(),
                    audience,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Manifest {
            name: self.name.to_string(),
            version: self.version.to_string(),
            exports,
            requires: self.requires.iter().map(|r| r.to_string()).collect(),
            config: self
                .config
                .iter()
                .map(|c| ConfigKey {
                    key: c.key.to_string(),
                    help: c.help.to_string(),
                    required: c.required,
                })
                .collect(),
        })
    }
}

/// The root module every provider library exports.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = ProviderModRef)))]
#[sabi(missing_field(panic))]
pub struct ProviderMod {
    /// The provider's manifest.
    pub manifest: extern "C" fn() -> RResult<FfiManifest, RString>,
    /// Starts the plugin's thread and vat; see [`HostLink`].
    #[sabi(last_prefix_field)]
    pub connect: extern "C" fn(HostLink) -> RResult<PluginLink, RString>,
}

impl RootModule for ProviderModRef {
    abi_stable::declare_root_module_statics! {ProviderModRef}
    const BASE_NAME: &'static str = "ww_provider";
    const NAME: &'static str = "ww_provider";
    const VERSION_STRINGS: VersionStrings = abi_stable::package_version_strings!();
}

/// The root module of this library.
#[export_root_module]
pub fn root_module() -> ProviderModRef {
    use abi_stable::prefix_type::PrefixTypeTrait;
    ProviderMod {
        manifest: ffi_manifest,
        connect: ffi_connect,
    }
    .leak_into_prefix()
}

/// Runs `f`, turning a panic into `RErr`.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, String>) -> RResult<T, RString> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => RResult::ROk(v),
        Ok(Err(e)) => RResult::RErr(e.into()),
        Err(payload) => RResult::RErr(
            format!(
                "the provider panicked in {what}: {}",
                panic_message(payload.as_ref())
            )
            .into(),
        ),
    }
}

extern "C" fn ffi_manifest() -> RResult<FfiManifest, RString> {
    guarded("manifest", || {
        let provider = crate::registry::the_provider()?;
        Ok(FfiManifest::from(&provider.manifest()))
    })
}

extern "C" fn ffi_connect(host: HostLink) -> RResult<PluginLink, RString> {
    guarded("connect", || {
        let factory = crate::registry::the_factory()?;
        crate::plugin::connect(factory, host, true)
    })
}
