//! A provider served through the real byte-stream bridge, in-process: the
//! plugin side runs on its own thread exactly as in a loaded library, only
//! the FFI symbol lookup is skipped (the core's end-to-end tests load real
//! libraries).

use std::collections::BTreeMap;
use std::future::{ready, Future};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use abi_stable::std_types::RStr;
use capnp::capability::FromClientHook;
use capnp::traits::HasTypeId;
use futures::future::LocalBoxFuture;
use ww_capnp::identity_capnp::{identity, signer};
use ww_capnp::schema::{builtin, SchemaNode};

use crate::direct::{self, Direct};
use crate::ffi::{LogSink, LogSink_TO};
use crate::host::start_over;
use crate::manifest::{Audience, ExportDecl, Manifest};
use crate::registry::Factory;
use crate::{Context, Error, Export, Provider};

/// `domain` answers "d"; `sign` panics; `publicKey` echoes the config value
/// "key" as bytes.
struct TestSigner {
    key: String,
}

impl signer::Server for TestSigner {
    fn domain(
        self: Rc<Self>,
        _: signer::DomainParams,
        mut results: signer::DomainResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        results.get().set_domain("d");
        ready(Ok(()))
    }

    #[allow(unreachable_code)]
    fn sign(
        self: Rc<Self>,
        _: signer::SignParams,
        _: signer::SignResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        panic!("sign exploded");
        ready(Ok(()))
    }

    fn public_key(
        self: Rc<Self>,
        _: signer::PublicKeyParams,
        mut results: signer::PublicKeyResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        results.get().set_key(self.key.as_bytes());
        ready(Ok(()))
    }
}

/// An `Identity` whose `publicKey` is the config value "key" as bytes,
/// served through the [`direct`] trait by both doors.
struct TestIdentity {
    key: String,
}

impl direct::Identity for TestIdentity {
    fn public_key(&self) -> capnp::Result<Vec<u8>> {
        Ok(self.key.as_bytes().to_vec())
    }
}

impl identity::Server for TestIdentity {
    async fn public_key(
        self: Rc<Self>,
        _: identity::PublicKeyParams,
        mut results: identity::PublicKeyResults,
    ) -> Result<(), capnp::Error> {
        results
            .get()
            .set_key(&direct::Identity::public_key(&*self)?);
        Ok(())
    }
}

/// Starts per its "mode" config: "ok", "fail", "refuse" or "panic"; "identity"
/// exports a [`TestIdentity`] (with its direct object) in place of the
/// signer.
struct TestProvider;

impl Provider for TestProvider {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "tester".into(),
            version: "0.0.0".into(),
            exports: vec![ExportDecl {
                name: "signer".into(),
                audience: Audience::Guests,
            }],
            requires: vec![],
            config: vec![],
        }
    }

    fn start(&self, ctx: Context) -> LocalBoxFuture<'static, Result<Vec<Export>, Error>> {
        Box::pin(async move {
            tracing::info!(answer = 42, "starting tester");
            match ctx.required_config("mode")? {
                "fail" => {
                    return Err(Error::Start {
                        provider: "tester".into(),
                        reason: "fail was asked for".into(),
                    })
                }
                "refuse" => {
                    return Err(Error::Config {
                        key: "mode".into(),
                        reason: "`refuse` is refused".into(),
                    })
                }
                "panic" => panic!("start exploded"),
                _ => {}
            }
            let key = ctx.config("key").unwrap_or_default().to_string();
            if ctx.config("mode") == Some("identity") {
                let server = Rc::new(TestIdentity { key });
                let cap: identity::Client = capnp_rpc::new_client_from_rc(server.clone());
                let schema = SchemaNode::from_set(&builtin(), identity::Client::TYPE_ID)?;
                return Ok(vec![
                    Export::new("signer", cap.client, schema).with_direct(Direct::Identity(server))
                ]);
            }
            let cap: signer::Client = capnp_rpc::new_client(TestSigner { key });
            let schema = SchemaNode::from_set(&builtin(), signer::Client::TYPE_ID)?;
            Ok(vec![Export::new("signer", cap.client, schema)])
        })
    }
}

fn factory() -> Box<dyn Provider> {
    Box::new(TestProvider)
}

/// Log events the plugin forwarded: (level, target, message).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<(u8, String, String)>>>);

impl LogSink for Captured {
    fn log(&self, level: u8, target: RStr<'_>, message: RStr<'_>) {
        if let Ok(mut events) = self.0.lock() {
            events.push((level, target.to_string(), message.to_string()));
        }
    }
}

impl Captured {
    fn contains(&self, needle: &str) -> bool {
        self.0
            .lock()
            .map(|events| events.iter().any(|e| e.2.contains(needle)))
            .unwrap_or(false)
    }

    /// Waits (bounded) for an event from the plugin's thread.
    fn wait_for(&self, needle: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }
}

/// Runs `f` on a current-thread runtime inside a LocalSet, which is then
/// dropped (closing every link it holds).
fn local<F: Future>(f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let set = tokio::task::LocalSet::new();
    set.block_on(&rt, f)
}

async fn start(mode: &str, logs: &Captured) -> Result<Vec<Export>, Error> {
    let config = BTreeMap::from([
        ("mode".to_string(), mode.to_string()),
        ("key".to_string(), "k1".to_string()),
    ]);
    let sink = LogSink_TO::from_value(logs.clone(), abi_stable::sabi_trait::TD_Opaque);
    let f: Factory = factory;
    let connect = |link| {
        crate::plugin::connect(f, link, false).map_err(|reason| Error::Plugin {
            path: "in-process".into(),
            reason,
        })
    };
    start_over("tester", (sink, 5), connect, config, Vec::new()).await
}

#[test]
fn exports_cross_the_bridge_and_calls_work() {
    let logs = Captured::default();
    local(async {
        let exports = start("ok", &logs).await.unwrap();
        assert_eq!(exports.len(), 1);
        assert_eq!(exports[0].name, "signer");
        assert_eq!(exports[0].schema.id(), signer::Client::TYPE_ID);
        let signer = signer::Client::new(exports[0].cap.hook.add_ref());
        let resp = signer.public_key_request().send().promise.await.unwrap();
        assert_eq!(
            resp.get().unwrap().get_key().unwrap(),
            b"k1",
            "config reached start"
        );
        let resp = signer.domain_request().send().promise.await.unwrap();
        assert_eq!(resp.get().unwrap().get_domain().unwrap(), "d");
    });
}

/// A direct object is found in process, answers as its capability does,
/// and never crosses the library bridge: a host must not skip the bridge's
/// panic guard (and the plugin's thread) by calling it.
#[test]
fn a_direct_object_serves_in_process_and_stays_on_its_side_of_the_bridge() {
    let logs = Captured::default();
    local(async {
        let config = BTreeMap::from([
            ("mode".to_string(), "identity".to_string()),
            ("key".to_string(), "k1".to_string()),
        ]);
        let exports = factory()
            .start(Context::new(config, Vec::new()))
            .await
            .unwrap();
        let Some(Direct::Identity(server)) = exports[0].direct() else {
            panic!("no direct identity: {:?}", exports[0].direct());
        };
        assert_eq!(server.public_key().unwrap(), b"k1");
        let cap = identity::Client::new(exports[0].cap.hook.add_ref());
        let reply = cap.public_key_request().send().promise.await.unwrap();
        assert_eq!(reply.get().unwrap().get_key().unwrap(), b"k1");
        let bridged = start("identity", &logs).await.unwrap();
        assert_eq!(bridged[0].schema.id(), identity::Client::TYPE_ID);
        assert!(bridged[0].direct().is_none());
    });
}

/// An object of another interface than the export's schema is not kept:
/// a caller would otherwise answer one interface's call with another's.
#[test]
fn a_direct_object_of_another_interface_is_not_kept() {
    local(async {
        let cap: signer::Client = capnp_rpc::new_client(TestSigner { key: "k".into() });
        let schema = SchemaNode::from_set(&builtin(), signer::Client::TYPE_ID).unwrap();
        let export = Export::new("signer", cap.client, schema)
            .with_direct(Direct::Identity(Rc::new(TestIdentity { key: "k".into() })));
        assert!(export.direct().is_none());
    });
}

#[test]
fn a_panicking_method_fails_that_call_and_the_provider_keeps_serving() {
    let logs = Captured::default();
    local(async {
        let exports = start("ok", &logs).await.unwrap();
        let signer = signer::Client::new(exports[0].cap.hook.add_ref());
        let err = signer.sign_request().send().promise.await.err().unwrap();
        let text = err.to_string();
        assert!(
            text.contains("provider `tester` panicked: sign exploded"),
            "{text}"
        );
        let resp = signer.domain_request().send().promise.await.unwrap();
        assert_eq!(resp.get().unwrap().get_domain().unwrap(), "d");
    });
    // That the panic is logged through the host is asserted end to end
    // with the real library (tests/tests/e2e/plugins.rs): in one test
    // process, tracing's global callsite cache is shared by every test
    // thread, so a log assertion here would race with the proxy tests.
    drop(logs);
}

#[test]
fn a_failing_start_reports_the_providers_reason() {
    let logs = Captured::default();
    let err = local(async { start("fail", &logs).await.unwrap_err() });
    let text = err.to_string();
    assert!(matches!(err, Error::Start { .. }), "{err:?}");
    assert!(
        text.contains("tester") && text.contains("fail was asked for"),
        "{text}"
    );
}

#[test]
fn a_refused_config_value_keeps_its_kind_across_the_bridge() {
    let logs = Captured::default();
    let err = local(async { start("refuse", &logs).await.unwrap_err() });
    match err {
        Error::Config { key, reason } => {
            assert_eq!(key, "mode");
            assert_eq!(reason, "`refuse` is refused");
        }
        other => panic!("not a config refusal: {other:?}"),
    }
}

#[test]
fn a_missing_required_config_is_named() {
    let logs = Captured::default();
    let err = local(async {
        let sink = LogSink_TO::from_value(logs.clone(), abi_stable::sabi_trait::TD_Opaque);
        let connect = |link| {
            crate::plugin::connect(factory, link, false).map_err(|reason| Error::Plugin {
                path: "in-process".into(),
                reason,
            })
        };
        start_over("tester", (sink, 5), connect, BTreeMap::new(), Vec::new())
            .await
            .unwrap_err()
    });
    assert!(err.to_string().contains("provider config `mode`"), "{err}");
}

#[test]
fn a_panicking_start_is_an_error_not_a_crash() {
    let logs = Captured::default();
    let err = local(async { start("panic", &logs).await.unwrap_err() });
    assert!(err.to_string().contains("start exploded"), "{err}");
}

#[test]
fn plugin_logs_reach_the_host_and_closing_stops_the_plugin() {
    let logs = Captured::default();
    local(async {
        start("ok", &logs).await.unwrap();
    });
    assert!(
        logs.wait_for("starting tester answer=42"),
        "{:?}",
        logs.0.lock().unwrap()
    );
    // Dropping the LocalSet closed the host's end of the link.
    assert!(
        logs.wait_for("the host closed the provider link"),
        "{:?}",
        logs.0.lock().unwrap()
    );
}

#[test]
fn a_required_capability_is_found_or_named() {
    let cap: signer::Client = capnp_rpc::new_client(TestSigner { key: String::new() });
    let schema = SchemaNode::from_set(&builtin(), signer::Client::TYPE_ID).unwrap();
    let ctx = Context::new(
        BTreeMap::new(),
        vec![Export::new("host", cap.client, schema)],
    );
    assert_eq!(ctx.require("host").unwrap().name, "host");
    let err = ctx.require("routing").unwrap_err();
    assert!(err.to_string().contains("`routing`"), "{err}");
}

#[test]
fn an_empty_registry_is_a_clear_error() {
    // This test binary registers no provider with `export!`.
    let err = crate::registry::the_factory().err().unwrap();
    assert!(err.contains("export!"), "{err}");
}
