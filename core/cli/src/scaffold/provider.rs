//! The provider project: its own Cap'n Proto interface compiled by its
//! `build.rs`, a `Provider` that serves it and hands ww its schema node,
//! `export!` for the shared library, optionally `serve` for a process,
//! and a test that starts it as ww would and calls it.

use std::hash::{BuildHasher, Hasher};

use super::toml_string;

/// The capnpc ww is built with, when the checkout's lock does not say.
const CAPNPC: &str = "0.27";

/// The project's files, by path, for the crate `name` depending on the
/// provider SDK at `sdk` (as the manifest spells it); `lock` is the
/// checkout's `Cargo.lock`, whose capnpc version the build dependency
/// names.
pub(super) fn files(
    name: &str,
    sdk: &str,
    process: bool,
    lock: Option<&str>,
) -> Vec<(String, String)> {
    let names = Names::of(name);
    let capnpc = lock
        .and_then(|l| locked_version(l, "capnpc"))
        .map_or_else(|| CAPNPC.to_string(), |v| format!("={v}"));
    let mut manifest = MANIFEST
        .replace("@SDK@", &toml_string(sdk))
        .replace("@CAPNPC@", &toml_string(&capnpc));
    if process {
        manifest = manifest.replace("@BIN@", BIN);
    } else {
        manifest = manifest.replace("@BIN@", "");
    }
    let mut files = vec![
        ("Cargo.toml".to_string(), names.fill(&manifest)),
        ("build.rs".to_string(), names.fill(BUILD)),
        (
            format!("schema/{}.capnp", names.module),
            names.fill(&SCHEMA.replace("@ID@", &format!("{:016x}", file_id(name)))),
        ),
        ("src/lib.rs".to_string(), names.fill(LIB)),
        (".gitignore".to_string(), "/target\n".to_string()),
        ("README.md".to_string(), names.fill(README)),
    ];
    if process {
        files.push(("src/main.rs".to_string(), names.fill(MAIN)));
    }
    files
}

/// How one provider name is spelled in each place.
struct Names {
    /// The package, provider and export name.
    name: String,
    /// The library crate (`-` → `_`).
    lib: String,
    /// The schema file and generated module (lower snake case).
    module: String,
    /// The interface (camel case).
    iface: String,
}

impl Names {
    fn of(name: &str) -> Names {
        let parts: Vec<String> = name
            .split(['-', '_'])
            .filter(|p| !p.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        let iface = parts
            .iter()
            .map(|p| {
                let mut c = p.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect();
        Names {
            name: name.to_string(),
            lib: name.replace('-', "_"),
            module: parts.join("_"),
            iface,
        }
    }

    fn fill(&self, template: &str) -> String {
        template
            .replace("@NAME@", &self.name)
            .replace("@LIB@", &self.lib)
            .replace("@MODULE@", &self.module)
            .replace("@IFACE@", &self.iface)
            .replace("@KEY@", &format!("{}-greeting", self.name))
    }
}

/// The version of `package` in a `Cargo.lock`.
fn locked_version(lock: &str, package: &str) -> Option<String> {
    let name = format!("name = \"{package}\"\n");
    let at = lock.find(&name)? + name.len();
    let line = lock[at..].lines().next()?;
    let version = line.strip_prefix("version = \"")?.strip_suffix('"')?;
    Some(version.to_string())
}

/// A Cap'n Proto file id: 64 random bits with the top one set, as `capnp
/// id` makes them (from the standard library's randomly seeded hasher).
fn file_id(name: &str) -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(name.as_bytes());
    hasher.finish() | (1 << 63)
}

const MANIFEST: &str = r#"[package]
name = "@NAME@"
version = "0.1.0"
edition = "2021"

[lib]
# cdylib: lib@LIB@.so, for `ww run --provider`; rlib: for the tests, and for
# linking the provider into a ww of your own.
crate-type = ["rlib", "cdylib"]
@BIN@
[dependencies]
# Everything the provider and its generated code use comes through the SDK
# (capnp, capnp-rpc, futures, tokio, tracing), in the versions ww uses.
ww-provider-sdk = { path = @SDK@ }

[build-dependencies]
capnpc = { version = @CAPNPC@ }

# A project of its own: no workspace around it claims it.
[workspace]
"#;

const BIN: &str = r#"
# The same provider as a process: `ww run --provider target/debug/@NAME@`
# runs it jailed, in a process of its own.
[[bin]]
name = "@NAME@"
path = "src/main.rs"
"#;

const BUILD: &str = r#"//! Compiles schema/@MODULE@.capnp into Rust. The generated code names
//! `capnp` through the SDK (`capnp_root`), so Cargo.toml declares no
//! `capnp` of its own; and the compiler's request is kept as
//! OUT_DIR/@MODULE@.bin: the schema nodes the provider hands to ww with its
//! capability, so that cells and the shell can call it without having been
//! compiled against it. Needs the `capnp` compiler (`apt-get install
//! capnproto`).

use std::process::Command;

fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed=schema/@MODULE@.capnp");
    let compiled = Command::new("capnp")
        .args(["compile", "-o", "-", "--src-prefix=schema", "schema/@MODULE@.capnp"])
        .env_remove("PWD")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run the `capnp` compiler ({e}): install it (`apt-get install capnproto`)")
        });
    if !compiled.status.success() {
        panic!(
            "capnp compile schema/@MODULE@.capnp failed:\n{}",
            String::from_utf8_lossy(&compiled.stderr)
        );
    }
    std::fs::write(out.join("@MODULE@.bin"), &compiled.stdout)
        .expect("write the compiler's request to OUT_DIR");
    capnpc::codegen::CodeGenerationCommand::new()
        .output_directory(&out)
        .capnp_root("::ww_provider_sdk::capnp")
        .run(compiled.stdout.as_slice())
        .expect("generate Rust code from schema/@MODULE@.capnp");
}
"#;

const SCHEMA: &str = r#"@0x@ID@;
# The interface the `@NAME@` provider serves to cells (and to the shell:
# `(@NAME@ hello "ww")`). Change it freely: build.rs compiles it, and ww
# learns its methods from the schema node the provider hands over.

interface @IFACE@ {
  hello @0 (name :Text) -> (greeting :Text);
  # "Hello, NAME!", with the word of the `@KEY@` config key; an empty
  # name fails the call.

  count @1 () -> (greeted :UInt64);
  # How many greetings the provider has given since it started.
}
"#;

const LIB: &str = r#"//! @NAME@: a ww capability provider. It serves the `@IFACE@` interface
//! of schema/@MODULE@.capnp to cells, exported as `@NAME@`.
//!
//! ```sh
//! cargo build                                   # target/debug/lib@LIB@.so
//! ww providers target/debug/lib@LIB@.so         # its manifest and methods
//! ww run --provider target/debug/lib@LIB@.so --config @KEY@=Hi IMAGE
//! ```
//!
//! The authors' guide is docs/providers.md in the ww repository.

use std::cell::Cell;
use std::rc::Rc;

use ww_provider_sdk::capnp::traits::HasTypeId;
use ww_provider_sdk::manifest::{Audience, ConfigKey, ExportDecl, Manifest};
use ww_provider_sdk::ww_capnp::schema::{SchemaNode, SchemaSet};
use ww_provider_sdk::{capnp, capnp_rpc, Context, Error, Export, LocalBoxFuture, Provider};

/// The code capnpc generated from schema/@MODULE@.capnp (see build.rs).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod @MODULE@_capnp {
    include!(concat!(env!("OUT_DIR"), "/@MODULE@_capnp.rs"));
}

use @MODULE@_capnp::@MODULE@;

/// Every node of the schema, as the compiler handed them to build.rs.
const SCHEMAS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/@MODULE@.bin"));

/// The config key of the greeting word (`ww run --config @KEY@=Hi`). All
/// providers of a node share one set of keys: the provider's name as a
/// prefix keeps them apart.
pub const GREETING_KEY: &str = "@KEY@";

/// Serves `@IFACE@`: greets, and counts its greetings.
struct @IFACE@Server {
    greeting: String,
    greeted: Cell<u64>,
}

impl @MODULE@::Server for @IFACE@Server {
    async fn hello(
        self: Rc<Self>,
        params: @MODULE@::HelloParams,
        mut results: @MODULE@::HelloResults,
    ) -> Result<(), capnp::Error> {
        let name = params.get()?.get_name()?.to_str()?;
        if name.is_empty() {
            // The caller reads this text: say what was wrong and what to do.
            return Err(capnp::Error::failed(
                "hello needs a name: pass a non-empty one".to_string(),
            ));
        }
        self.greeted.set(self.greeted.get() + 1);
        let greeting = format!("{}, {name}!", self.greeting);
        results.get().set_greeting(greeting.as_str());
        Ok(())
    }

    async fn count(
        self: Rc<Self>,
        _: @MODULE@::CountParams,
        mut results: @MODULE@::CountResults,
    ) -> Result<(), capnp::Error> {
        results.get().set_greeted(self.greeted.get());
        Ok(())
    }
}

/// The `@NAME@` provider. Constructing it must stay cheap and free of side
/// effects (ww constructs it to read the manifest): work belongs in `start`.
pub struct @IFACE@Provider;

impl Provider for @IFACE@Provider {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "@NAME@".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            exports: vec![ExportDecl {
                name: "@NAME@".to_string(),
                audience: Audience::Guests,
            }],
            requires: Vec::new(),
            config: vec![ConfigKey {
                key: GREETING_KEY.to_string(),
                help: "the word @NAME@ greets with (default: Hello)".to_string(),
                required: false,
            }],
        }
    }

    fn start(&self, ctx: Context) -> LocalBoxFuture<'static, Result<Vec<Export>, Error>> {
        let greeting = ctx.config(GREETING_KEY).unwrap_or("Hello").to_string();
        Box::pin(async move {
            if greeting.trim().is_empty() {
                return Err(Error::Config {
                    key: GREETING_KEY.to_string(),
                    reason: "is empty; give a word, or leave the key out for Hello".to_string(),
                });
            }
            let set = SchemaSet::from_bytes(SCHEMAS)?;
            let schema = SchemaNode::from_set(&set, @MODULE@::Client::TYPE_ID)?;
            ww_provider_sdk::tracing::info!("greeting with {greeting:?}");
            let server = @IFACE@Server {
                greeting,
                greeted: Cell::new(0),
            };
            let cap: @MODULE@::Client = capnp_rpc::new_client(server);
            Ok(vec![Export::new("@NAME@", cap.client, schema)])
        })
    }
}

// The library's entry points: what `ww run --provider lib@LIB@.so` loads.
ww_provider_sdk::export!(@IFACE@Provider);

#[cfg(test)]
mod tests {
    use super::*;
    use ww_provider_sdk::capnp::capability::FromClientHook;
    use ww_provider_sdk::tokio;

    /// Starts the provider as ww does (a current-thread runtime and a
    /// `LocalSet`) and calls its capability.
    #[test]
    fn hello_greets_with_the_configured_word_and_counts() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async {
            let config = [(GREETING_KEY.to_string(), "Hi".to_string())].into();
            let exports = @IFACE@Provider
                .start(Context::new(config, Vec::new()))
                .await
                .unwrap();
            assert_eq!(exports[0].schema.id(), @MODULE@::Client::TYPE_ID);
            let client: @MODULE@::Client = exports[0].cap.clone().cast_to();

            let mut hello = client.hello_request();
            hello.get().set_name("ww");
            let reply = hello.send().promise.await.unwrap();
            let greeting = reply.get().unwrap().get_greeting().unwrap();
            assert_eq!(greeting.to_str().unwrap(), "Hi, ww!");

            let empty = client.hello_request().send().promise.await;
            assert!(empty.is_err(), "an empty name fails the call");

            let count = client.count_request().send().promise.await.unwrap();
            assert_eq!(count.get().unwrap().get_greeted(), 1);
        });
    }
}
"#;

const MAIN: &str = r#"//! @NAME@ as a provider process: `ww run --provider target/debug/@NAME@`
//! runs it jailed, speaking to the node over its fd 3. A crash here takes
//! only this process down; the node restarts it.

fn main() -> std::process::ExitCode {
    ww_provider_sdk::serve(@LIB@::@IFACE@Provider)
}
"#;

const README: &str = r#"# @NAME@

A ww capability provider: `schema/@MODULE@.capnp` is its interface,
`src/lib.rs` serves it, `build.rs` compiles the schema.

```sh
cargo build                                    # target/debug/lib@LIB@.so
cargo test                                     # starts the provider and calls it
ww providers target/debug/lib@LIB@.so          # its manifest, ABI and methods
echo '(@NAME@ hello "ww")' | ww run --provider target/debug/lib@LIB@.so IMAGE
```

The authors' guide is `docs/providers.md` in the ww repository.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_spelled_for_each_place() {
        let n = Names::of("my-greeter");
        assert_eq!(n.lib, "my_greeter");
        assert_eq!(n.module, "my_greeter");
        assert_eq!(n.iface, "MyGreeter");
    }

    #[test]
    fn the_build_dependency_is_the_locked_capnpc() {
        let lock = "[[package]]\nname = \"capnpc\"\nversion = \"0.27.0\"\nsource = \"x\"\n";
        assert_eq!(locked_version(lock, "capnpc").as_deref(), Some("0.27.0"));
        let files = files("demo", "../sdk", false, Some(lock));
        let manifest = &files[0].1;
        assert!(
            manifest.contains(r#"capnpc = { version = "=0.27.0" }"#),
            "{manifest}"
        );
        assert!(!manifest.contains("[[bin]]"), "{manifest}");
    }

    #[test]
    fn the_schema_starts_with_a_file_id_with_the_top_bit_set() {
        assert!(file_id("demo") >= 1 << 63);
        let files = files("demo", "../sdk", true, None);
        let (path, schema) = &files[2];
        assert_eq!(path, "schema/demo.capnp");
        let id = schema.lines().next().unwrap();
        assert!(
            id.starts_with("@0x") && id.ends_with(';') && id.len() == 20,
            "{id}"
        );
        assert!(schema.contains("interface Demo {"), "{schema}");
    }
}
