//! `ww providers`: what a provider exports, requires and reads, and the ABI
//! fingerprint it was built with (a library) or the protocol it speaks and
//! what it needs from its jail (a process) — before an operator trusts it
//! with a node. A provider process is started, jailed, for its handshake
//! and killed once it has said hello.
//!
//! Each export's methods come from the schema node the provider hands over
//! with it, so a provider that needs neither configuration nor another
//! provider's capability is started (with nothing) to list them; one that
//! needs either is listed without them, saying what it needs. A built-in
//! provider names its exports' schemas without starting
//! ([`Provider::schemas`](ww_provider_sdk::Provider::schemas)), so all of
//! them are listed.

mod signature;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

use ww_capnp::schema::SchemaNode;
use ww_provider_sdk::manifest::{Audience, Manifest, Needs};

use ww_core::native::{Confinement, Runner};
use ww_core::registry::process::ProcessHost;
use ww_core::registry::restart::Restart;
use ww_core::registry::{self, Loaded, RegistryError};

/// Describes each provider in `paths`, or the built-in providers when
/// `paths` is empty; provider processes run jailed (reading `read_only`
/// besides their own directory), or not with `no_jail`.
///
/// # Errors
///
/// The first provider that cannot be loaded (not a provider, ABI or
/// protocol mismatch, no jail).
pub fn describe(
    paths: &[PathBuf],
    no_jail: bool,
    read_only: &[PathBuf],
) -> Result<String, RegistryError> {
    let mut out = String::new();
    let host = ww_provider_sdk::fingerprint::current();
    if paths.is_empty() {
        let features = crate::features::enabled();
        let _ = writeln!(
            out,
            "built-in providers (host ABI: {host}; features: {features})"
        );
        for provider in crate::builtins::providers() {
            manifest(&mut out, &provider.manifest(), "built in", None);
            // From the schemas the provider names, without starting it (a
            // start may need its config, other providers, the network).
            let schemas = provider.schemas();
            if schemas.is_empty() {
                let _ = writeln!(out, "  methods   not listed: the provider names no schemas");
            }
            out.push_str(&listing(&schemas));
        }
        return Ok(out);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| RegistryError::Read {
            path: PathBuf::from("(a tokio runtime)"),
            source,
        })?;
    let local = tokio::task::LocalSet::new();
    let loaded = local.block_on(&runtime, async {
        let host = match registry::any_process(paths)? {
            true => Some(ProcessHost::new(
                Runner::new(Confinement::for_node(no_jail)),
                read_only.to_vec(),
                Vec::new(),
                Restart::Off,
            )),
            false => None,
        };
        let loaded = registry::load(paths, host.as_ref()).await?;
        let mut described = Vec::new();
        for loaded in loaded {
            let methods = methods(&loaded).await;
            described.push((loaded, methods));
        }
        Ok::<_, RegistryError>(described)
    })?;
    for (loaded, methods) in &loaded {
        match loaded {
            Loaded::Library(library) => {
                let origin = library.path.display().to_string();
                manifest(&mut out, &library.manifest, &origin, None);
                let _ = writeln!(out, "  abi       {}", library.fingerprint);
            }
            Loaded::Process(process) => {
                let origin = process.path.display().to_string();
                manifest(&mut out, &process.hello.manifest, &origin, None);
                let hello = &process.hello;
                let _ = writeln!(
                    out,
                    "  protocol  {} ({})",
                    hello.protocol, hello.implementation
                );
                let _ = writeln!(out, "  needs     {}", needs(&hello.needs));
            }
        }
        out.push_str(methods);
    }
    drop(loaded);
    Ok(out)
}

/// "  methods of NAME:" and a line per method for each export of
/// `loaded`, started with no configuration and no capabilities; or one
/// line saying why it was not started.
async fn methods(loaded: &Loaded) -> String {
    let manifest = match loaded {
        Loaded::Library(library) => &library.manifest,
        Loaded::Process(process) => &process.hello.manifest,
    };
    let mut wants: Vec<String> = manifest
        .config
        .iter()
        .filter(|k| k.required)
        .map(|k| format!("config `{}`", k.key))
        .collect();
    wants.extend(
        manifest
            .requires
            .iter()
            .map(|r| format!("capability `{r}`")),
    );
    if !wants.is_empty() {
        return format!(
            "  methods   not listed: starting it needs {}\n",
            wants.join(", ")
        );
    }
    let started = match loaded {
        Loaded::Library(library) => library
            .start(BTreeMap::new(), Vec::new())
            .await
            .map_err(|e| e.reason()),
        Loaded::Process(process) => process
            .start(BTreeMap::new(), Vec::new())
            .await
            .map(|(exports, _life)| exports)
            .map_err(|e| e.to_string()),
    };
    let exports = match started {
        Ok(exports) => exports,
        Err(reason) => return format!("  methods   not listed: it failed to start: {reason}\n"),
    };
    let schemas: Vec<(String, SchemaNode)> = exports
        .into_iter()
        .map(|export| (export.name, export.schema))
        .collect();
    listing(&schemas)
}

/// "  methods of NAME:" and a line per method, for each export's schema.
fn listing(schemas: &[(String, SchemaNode)]) -> String {
    let mut out = String::new();
    for (name, schema) in schemas {
        let _ = writeln!(out, "  methods of {name}:");
        match signature::methods(schema) {
            Ok(list) if list.is_empty() => {
                let _ = writeln!(out, "    (not an interface)");
            }
            Ok(list) => {
                for m in list {
                    let _ = writeln!(out, "    {m}");
                }
            }
            Err(e) => {
                let _ = writeln!(out, "    (its schema node is malformed: {e})");
            }
        }
    }
    out
}

/// "network, read /a, write /b", or "-".
fn needs(needs: &Needs) -> String {
    let mut parts = Vec::new();
    if needs.network {
        parts.push("network".to_string());
    }
    parts.extend(needs.read.iter().map(|p| format!("read {p}")));
    parts.extend(needs.write.iter().map(|p| format!("write {p}")));
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

fn manifest(out: &mut String, m: &Manifest, origin: &str, abi: Option<&str>) {
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "-".to_string()
        } else {
            items.join(", ")
        }
    };
    let exports = m
        .exports
        .iter()
        .map(|x| match x.audience {
            Audience::Guests => x.name.clone(),
            Audience::Providers => format!("{} (providers only)", x.name),
        })
        .collect();
    let _ = writeln!(out, "{} {} ({origin})", m.name, m.version);
    let _ = writeln!(out, "  exports   {}", list(exports));
    let _ = writeln!(out, "  requires  {}", list(m.requires.clone()));
    for key in &m.config {
        let need = if key.required { "required" } else { "optional" };
        let _ = writeln!(out, "  config    {} ({need}): {}", key.key, key.help);
    }
    if let Some(abi) = abi {
        let _ = writeln!(out, "  abi       {abi}");
    }
}
