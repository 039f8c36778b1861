//! The loader side of dynamic providers, used by the core.
//!
//! [`load`] opens a provider library and checks it before trusting it:
//! first the plain-C fingerprint (a library built for another SDK, compiler,
//! target or schema set is refused, naming both sides), then abi_stable's
//! layout check, then the manifest. [`Library::start`] connects the byte
//! stream, runs the host's half of the Cap'n Proto vat and calls
//! `Plugin.start`.
//!
//! Libraries are never unloaded (a thread or a `static` destructor of the
//! plugin may still run), and only the exact path given is opened: no search
//! of system library directories.

use std::collections::BTreeMap;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use abi_stable::library::{lib_header_from_raw_library, LibraryError, RawLibrary};
use capnp_rpc::{rpc_twoparty_capnp::Side, twoparty, RpcSystem};
use futures::future::LocalBoxFuture;
use ww_capnp::provider_capnp::plugin;

use crate::bridge::{self, SinkWriter};
use crate::direct;
use crate::error::{panic_message, Error};
use crate::export::{read_list, write_list, Export};
use crate::ffi::{HostLink, LogSinkBox, PluginLink, ProviderModRef, FINGERPRINT_SYMBOL};
use crate::fingerprint::{self, Fingerprint};
use crate::logs::{self, HostLog};
use crate::manifest::Manifest;

/// A loaded, checked provider library.
pub struct Library {
    /// The library's canonical path.
    pub path: PathBuf,
    /// Its provider's manifest.
    pub manifest: Manifest,
    /// Its fingerprint (equal to this host's but maybe for the SDK patch).
    pub fingerprint: Fingerprint,
    module: ProviderModRef,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library")
            .field("path", &self.path)
            .field("manifest", &self.manifest)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// Opens and checks the provider library at `path`.
///
/// # Errors
///
/// [`Error::Open`] when it cannot be opened, [`Error::NotAProvider`] when it
/// has no fingerprint, [`Error::BadFingerprint`] or
/// [`Error::FingerprintMismatch`] when it was built for another ww,
/// [`Error::Layout`] when abi_stable finds incompatible types,
/// [`Error::Plugin`] when its manifest cannot be read.
pub fn load(path: &Path) -> Result<Library, Error> {
    // Canonical, so the dynamic loader never searches its directories.
    let path = std::fs::canonicalize(path).map_err(|e| Error::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let raw = RawLibrary::load_at(&path).map_err(|e| Error::Open {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    // Never unloaded: leaked before anything from it is used.
    let raw: &'static RawLibrary = Box::leak(Box::new(raw));

    let fingerprint = read_fingerprint(raw, &path)?;
    let host = fingerprint::current();
    if fingerprint::check(&host, &fingerprint).is_err() {
        return Err(Error::FingerprintMismatch {
            path,
            host: Box::new(host),
            plugin: Box::new(fingerprint),
        });
    }

    // SAFETY: the library stays loaded forever (leaked above), and its
    // fingerprint says it was built by this SDK's ABI, compiler and target.
    let header =
        unsafe { lib_header_from_raw_library(raw) }.map_err(|e| library_error(&path, e))?;
    // Not `RootModule::load_from_file`: it caches one module per type, so a
    // second provider would silently be the first.
    let module = header
        .init_root_module::<ProviderModRef>()
        .map_err(|e| library_error(&path, e))?;

    let manifest = call_plugin(&path, "manifest", || module.manifest()().into_result())?
        .to_manifest()
        .map_err(|reason| Error::Plugin {
            path: path.clone(),
            reason,
        })?;
    Ok(Library {
        path,
        manifest,
        fingerprint,
        module,
    })
}

/// Calls `ww_provider_fingerprint` and parses its answer.
fn read_fingerprint(raw: &RawLibrary, path: &Path) -> Result<Fingerprint, Error> {
    type FingerprintFn = extern "C" fn() -> *const c_char;
    // SAFETY: the symbol is declared with exactly this signature by every
    // SDK version, past and future (it is how versions are told apart).
    let symbol = unsafe { raw.get::<FingerprintFn>(FINGERPRINT_SYMBOL) }.map_err(|_| {
        Error::NotAProvider {
            path: path.to_path_buf(),
        }
    })?;
    let ptr = symbol();
    let bad = |text: String| Error::BadFingerprint {
        path: path.to_path_buf(),
        text,
    };
    if ptr.is_null() {
        return Err(bad("(null)".to_string()));
    }
    // SAFETY: non-null, and a static NUL-terminated string by the contract
    // of `ww_provider_fingerprint`.
    let text = unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned();
    text.parse().map_err(|_| bad(text))
}

/// A plugin entry point's result, with a panic or an `RErr` as an error.
fn call_plugin<T>(
    path: &Path,
    what: &str,
    f: impl FnOnce() -> Result<T, abi_stable::std_types::RString>,
) -> Result<T, Error> {
    // The plugin catches its own panics; this catches ours.
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(reason)) => Err(Error::Plugin {
            path: path.to_path_buf(),
            reason: reason.into(),
        }),
        Err(payload) => Err(Error::Plugin {
            path: path.to_path_buf(),
            reason: format!("{what} panicked: {}", panic_message(payload.as_ref())),
        }),
    }
}

/// abi_stable's error, with a layout report cut to its "Error:" lines.
fn library_error(path: &Path, e: LibraryError) -> Error {
    match e {
        LibraryError::AbiInstability(_) => {
            let text = e.to_string();
            let mut errors: Vec<String> = text
                .lines()
                .map(str::trim_start)
                .filter(|l| l.starts_with("Error:"))
                .map(str::to_string)
                .collect();
            if errors.is_empty() {
                errors.extend(text.lines().next().map(str::to_string));
            }
            Error::Layout {
                path: path.to_path_buf(),
                errors,
            }
        }
        LibraryError::GetSymbolError { .. } => Error::Plugin {
            path: path.to_path_buf(),
            reason: "it has a ww fingerprint but no abi_stable root module; build it with \
                     ww-provider-sdk's `export!` macro"
                .to_string(),
        },
        other => Error::Plugin {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    }
}

impl Library {
    /// Starts the provider: its own thread, runtime and vat, then
    /// `Plugin.start(config, requires)`; returns its exports.
    ///
    /// Must be called (and polled) inside a tokio `LocalSet`: the host's half
    /// of the vat runs under `spawn_local` for as long as that `LocalSet`
    /// lives. When the plugin's vat ends (the plugin died or panicked
    /// outside a call), its capabilities fail with `Disconnected` and the
    /// host logs why, at target `ww::provider`.
    ///
    /// # Errors
    ///
    /// [`Error::Plugin`] when the plugin cannot connect, [`Error::Config`]
    /// when it refuses a configuration value, [`Error::Start`] when its
    /// `start` fails otherwise (the reason is the provider's own message),
    /// [`Error::Capnp`] for a malformed answer.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes leaves the plugin's thread
    /// running until the host's `LocalSet` is dropped.
    pub fn start(
        &self,
        config: BTreeMap<String, String>,
        requires: Vec<Export>,
    ) -> LocalBoxFuture<'static, Result<Vec<Export>, Error>> {
        let module = self.module;
        let path = self.path.clone();
        let name = self.manifest.name.clone();
        Box::pin(async move {
            let log = (HostLog::sink(&name), logs::host_max_level());
            let connect =
                |link| call_plugin(&path, "connect", || module.connect()(link).into_result());
            start_over(&name, log, connect, config, requires).await
        })
    }
}

/// Connects a plugin through `connect`, runs the host's half of its vat and
/// calls `Plugin.start` (the body of [`Library::start`], without the FFI
/// module so tests can connect a plugin in-process).
pub(crate) async fn start_over(
    name: &str,
    (log, max_level): (LogSinkBox, u8),
    connect: impl FnOnce(HostLink) -> Result<PluginLink, Error>,
    config: BTreeMap<String, String>,
    requires: Vec<Export>,
) -> Result<Vec<Export>, Error> {
    let (to_host, reader) = bridge::channel();
    let link = HostLink {
        to_host,
        log,
        max_level,
    };
    let PluginLink { to_plugin } = connect(link)?;
    start_over_stream(name, reader, SinkWriter::new(to_plugin), config, requires).await
}

/// Runs the host's half of a provider's vat over `reader` and `writer` and
/// calls `Plugin.start`: the byte stream of a library, or the socket of a
/// provider process once its handshake is done.
///
/// Must be called inside a tokio `LocalSet` (the vat runs under
/// `spawn_local` until the connection ends).
///
/// # Errors
///
/// As [`Library::start`].
pub async fn start_over_stream<R, W>(
    name: &str,
    reader: R,
    writer: W,
    config: BTreeMap<String, String>,
    requires: Vec<Export>,
) -> Result<Vec<Export>, Error>
where
    R: futures::io::AsyncRead + Unpin + 'static,
    W: futures::io::AsyncWrite + Unpin + 'static,
{
    let network = twoparty::VatNetwork::new(reader, writer, Side::Client, Default::default());
    let mut rpc = RpcSystem::new(Box::new(network), None);
    let plugin: plugin::Client = rpc.bootstrap(Side::Server);
    run_vat(rpc, name)?;
    call_start(&plugin, name, config, &requires).await
}

/// Runs the host's half of a plugin's vat until the link closes.
fn run_vat(rpc: RpcSystem<Side>, name: &str) -> Result<(), Error> {
    let provider = name.to_string();
    let vat = async move {
        match rpc.await {
            Ok(()) => tracing::info!(
                target: "ww::provider",
                provider = %provider,
                "provider link closed; its capabilities now fail with Disconnected"
            ),
            Err(e) => tracing::error!(
                target: "ww::provider",
                provider = %provider,
                "provider link failed: {e}; its capabilities now fail with Disconnected"
            ),
        }
    };
    // `spawn_local` panics outside a LocalSet: report that instead.
    catch_unwind(AssertUnwindSafe(|| drop(tokio::task::spawn_local(vat)))).map_err(|_| {
        Error::Start {
            provider: name.to_string(),
            reason: "Library::start must run inside a tokio LocalSet".to_string(),
        }
    })
}

/// `Plugin.start(config, requires)`.
async fn call_start(
    plugin: &plugin::Client,
    name: &str,
    config: BTreeMap<String, String>,
    requires: &[Export],
) -> Result<Vec<Export>, Error> {
    let mut req = plugin.start_request();
    {
        let mut params = req.get();
        let len =
            |n: usize| u32::try_from(n).map_err(|_| capnp::Error::failed("list too long".into()));
        let mut settings = params.reborrow().init_config(len(config.len())?);
        for (i, (key, value)) in config.iter().enumerate() {
            let mut s = settings.reborrow().get(len(i)?);
            s.set_key(key.as_str());
            s.set_value(value.as_str());
        }
        write_list(requires, params.init_requires(len(requires.len())?))?;
    }
    let response = req.send().promise.await.map_err(|e| Error::Start {
        provider: name.to_string(),
        // The provider's own message, without capnp-rpc's transport prefix.
        reason: e
            .extra
            .strip_prefix("remote exception: ")
            .unwrap_or(&e.extra)
            .to_string(),
    })?;
    let response = response.get()?;
    if response.has_refused() {
        let refused = response.get_refused()?;
        return Err(Error::Config {
            key: refused.get_key()?.to_string().map_err(capnp::Error::from)?,
            reason: refused
                .get_reason()?
                .to_string()
                .map_err(capnp::Error::from)?,
        });
    }
    let exports = read_list(response.get_exports()?)?;
    for export in &exports {
        if direct::has_direct_calls(export.schema.id()) {
            tracing::info!(
                target: "ww::provider",
                provider = %name,
                export = %export.name,
                "served from outside the node's thread: typed WIT calls on it go through Cap'n \
                 Proto (a built-in provider answers the quick ones in process)"
            );
        }
    }
    Ok(exports)
}
