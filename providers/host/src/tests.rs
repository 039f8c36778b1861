//! The provider through its capnp clients, as a guest would use it: two
//! hosts in one process on loopback.

use std::collections::BTreeMap;

use capnp::capability::FromClientHook;
use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use libp2p::PeerId;
use ww_capnp::system_capnp::host;
use ww_provider_sdk::{Context, Error, Provider};

use crate::config::{self, Settings};
use crate::provider;

fn run<F: std::future::Future>(f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tokio::task::LocalSet::new().block_on(&rt, f)
}

fn pem_of(key: &SigningKey) -> String {
    key.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string()
}

fn pem() -> String {
    pem_of(&SigningKey::generate(&mut rand_core::OsRng))
}

fn loopback() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("identity".to_string(), pem()),
        (
            "listen".to_string(),
            "/ip4/127.0.0.1/tcp/0, /ip4/127.0.0.1/udp/0/quic-v1".to_string(),
        ),
    ])
}

async fn start_with(config: BTreeMap<String, String>) -> Result<host::Client, Error> {
    let exports = provider().start(Context::new(config, Vec::new())).await?;
    let names: Vec<&str> = exports.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["host", "dht", "wire"]);
    Ok(host::Client::new(exports[0].cap.hook.add_ref()))
}

async fn id(h: &host::Client) -> String {
    let reply = h.id_request().send().promise.await.unwrap();
    reply
        .get()
        .unwrap()
        .get_peer_id()
        .unwrap()
        .to_string()
        .unwrap()
}

async fn addrs(h: &host::Client) -> Vec<String> {
    let reply = h.addrs_request().send().promise.await.unwrap();
    let list = reply.get().unwrap().get_addrs().unwrap();
    list.iter()
        .map(|a| a.unwrap().to_string().unwrap())
        .collect()
}

async fn peers(h: &host::Client) -> Vec<String> {
    let reply = h.peers_request().send().promise.await.unwrap();
    let list = reply.get().unwrap().get_peers().unwrap();
    list.iter()
        .map(|p| p.get_id().unwrap().to_string().unwrap())
        .collect()
}

async fn connect(h: &host::Client, addr: &str) -> capnp::Result<()> {
    let mut req = h.connect_request();
    req.get().set_addr(addr);
    req.send().promise.await.map(|_| ())
}

#[test]
fn peer_id_is_the_identity_key() {
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let keypair = config::keypair(&pem_of(&key)).unwrap();
    let public =
        libp2p::identity::ed25519::PublicKey::try_from_bytes(key.verifying_key().as_bytes())
            .unwrap();
    let expected = PeerId::from(libp2p::identity::PublicKey::from(public));
    assert_eq!(keypair.public().to_peer_id(), expected);
}

#[test]
fn two_hosts_connect_and_list_each_other() {
    run(async {
        let a = start_with(loopback()).await.unwrap();
        let b = start_with(loopback()).await.unwrap();
        let (a_id, b_id) = (id(&a).await, id(&b).await);
        let a_addrs = addrs(&a).await;
        assert_eq!(a_addrs.len(), 2, "TCP and QUIC: {a_addrs:?}");
        assert!(a_addrs.iter().all(|x| x.ends_with(&format!("/p2p/{a_id}"))));
        assert!(peers(&b).await.is_empty());

        connect(&b, &a_addrs[0]).await.unwrap();
        // `peers()` answers from a snapshot the swarm updates as connection
        // events arrive: wait (bounded) until each side lists the other.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while peers(&b).await != vec![a_id.clone()] || !peers(&a).await.contains(&b_id) {
            assert!(
                std::time::Instant::now() < deadline,
                "A and B never listed each other"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // Over QUIC too (a second connection to the same peer is a no-op).
        connect(&b, &a_addrs[1]).await.unwrap();
    });
}

#[test]
fn connect_errors_say_what_is_wrong() {
    run(async {
        let a = start_with(loopback()).await.unwrap();
        let a_id = id(&a).await;
        let err = connect(&a, "nonsense").await.unwrap_err();
        assert!(err.to_string().contains("is not a multiaddr"), "{err}");
        let err = connect(&a, "/ip4/127.0.0.1/tcp/1").await.unwrap_err();
        assert!(err.to_string().contains("/p2p/<peer id>"), "{err}");
        let err = connect(&a, &addrs(&a).await[0]).await.unwrap_err();
        assert!(err.to_string().contains("this node itself"), "{err}");
        let other = PeerId::random();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = connect(&a, &format!("/ip4/127.0.0.1/tcp/{port}/p2p/{other}"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("cannot connect"), "{err}");
        assert!(peers(&a).await.is_empty());
        assert_ne!(a_id, other.to_base58());
    });
}

#[test]
fn an_unanswered_dial_times_out_within_the_bound() {
    run(async {
        let mut config = loopback();
        config.insert("dial_timeout".into(), "0.5".into());
        let a = start_with(config).await.unwrap();
        // A UDP port nobody answers: QUIC waits for a handshake that never comes.
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let started = std::time::Instant::now();
        let err = connect(
            &a,
            &format!("/ip4/127.0.0.1/udp/{port}/quic-v1/p2p/{}", PeerId::random()),
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string().contains("timed out") || err.to_string().contains("cannot connect"),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    });
}

#[test]
fn bad_config_is_refused_naming_the_key() {
    let cases = [
        ("identity", "not a key"),
        ("listen", "/ip4/127.0.0.1/tcp/x"),
        ("listen", " , "),
        ("bootstrap", "/ip4/127.0.0.1/tcp/4001"),
        ("dial_timeout", "-1"),
    ];
    for (key, value) in cases {
        let mut config = loopback();
        config.insert(key.to_string(), value.to_string());
        let err = Settings::from_context(&Context::new(config, Vec::new()))
            .err()
            .unwrap_or_else(|| panic!("{key}={value} was accepted"));
        assert!(
            matches!(&err, Error::Config { key: k, .. } if k == key),
            "{key}={value}: {err:?}"
        );
        if key == "identity" {
            assert!(!err.to_string().contains(value), "the key is not echoed");
        }
    }
}

#[test]
fn an_address_in_use_is_a_config_error_when_given_explicitly() {
    run(async {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let mut config = loopback();
        config.insert("listen".into(), format!("/ip4/127.0.0.1/tcp/{port}"));
        let err = start_with(config).await.err().expect("port is taken");
        assert!(
            matches!(&err, Error::Config { key, .. } if key == "listen"),
            "{err:?}"
        );
    });
}

#[test]
fn manifest_declares_the_export_and_keys() {
    let m = provider().manifest();
    assert_eq!(m.name, "host");
    assert_eq!(m.exports.len(), 3);
    assert_eq!(m.exports[0].name, "host");
    assert_eq!(m.exports[1].name, "dht");
    assert_eq!(m.exports[2].name, "wire");
    for raw in &m.exports[1..] {
        assert_eq!(
            raw.audience,
            ww_provider_sdk::manifest::Audience::Providers,
            "the raw DHT and raw streams never reach cells"
        );
    }
    let keys: Vec<&str> = m.config.iter().map(|k| k.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "identity",
            "listen",
            "bootstrap",
            "dial_timeout",
            "stream_limit",
            "stream_limit_per_peer",
            "vat_limit",
            "vat_limit_per_peer"
        ]
    );
    assert!(m.config[0].required);
}

#[test]
fn cells_protocols_live_under_ww() {
    use crate::protocol::namespaced;
    assert_eq!(namespaced("echo").unwrap().as_ref(), "/ww/echo");
    assert_eq!(
        namespaced("/ww/echo/1.0.0").unwrap().as_ref(),
        "/ww/echo/1.0.0"
    );
    for bad in ["/ipfs/kad/1.0.0", "/ww/kad/1.0.0", "/ww/", "", "/ww/a b"] {
        assert!(namespaced(bad).is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn admission_counts_per_peer_and_in_total_and_frees_on_drop() {
    use crate::admission::{Admission, Limits};
    let admission = Admission::new(
        Limits {
            total: 3,
            per_peer: 2,
        },
        "streams",
    );
    let (a, b) = (PeerId::random(), PeerId::random());
    let a1 = admission.admit(a).unwrap();
    let _a2 = admission.admit(a).unwrap();
    assert!(admission.admit(a).unwrap_err().contains("per-peer limit"));
    let _b1 = admission.admit(b).unwrap();
    assert!(admission.admit(b).unwrap_err().contains("its limit"));
    drop(a1);
    assert!(admission.admit(b).is_ok(), "a freed place is reusable");
}

#[test]
fn vats_have_their_own_limits_configured_apart_from_streams() {
    let mut config = loopback();
    config.insert("stream_limit_per_peer".into(), "5".into());
    config.insert("vat_limit".into(), "4".into());
    let settings = Settings::from_context(&Context::new(config, Vec::new())).unwrap();
    assert_eq!(settings.limits.per_peer, 5);
    assert_eq!(settings.limits.total, 64);
    assert_eq!(settings.vat_limits.total, 4);
    assert_eq!(settings.vat_limits.per_peer, 8, "the vat default");

    let admission = crate::admission::Admission::new(settings.vat_limits, "vats");
    let peer = PeerId::random();
    let _held: Vec<_> = (0..4).map(|_| admission.admit(peer).unwrap()).collect();
    let refusal = admission.admit(PeerId::random()).unwrap_err();
    assert!(refusal.contains("4 open vats"), "{refusal}");
}

/// Raw libp2p throughput between two hosts in one process, for comparison
/// with the capability path (bench/RESULTS.md):
/// `cargo test -p ww-host raw_stream_throughput -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn raw_stream_throughput() {
    use futures::{AsyncReadExt, AsyncWriteExt};
    run(async {
        let settings = |config| Settings::from_context(&Context::new(config, Vec::new())).unwrap();
        let a = crate::driver::spawn(settings(loopback())).await.unwrap();
        let b = crate::driver::spawn(settings(loopback())).await.unwrap();
        let net_a = crate::network::Network {
            swarm: a.clone(),
            limits: Default::default(),
            vat_limits: crate::admission::Limits::vats(),
        };
        let net_b = crate::network::Network {
            swarm: b.clone(),
            limits: Default::default(),
            vat_limits: crate::admission::Limits::vats(),
        };
        let (_owner, owned) = tokio::sync::oneshot::channel();
        net_a
            .accept(
                "bench",
                net_a.stream_admission(),
                owned,
                |_, stream, permit| async move {
                    let (mut r, mut w) = stream.split();
                    let _ = futures::io::copy(&mut r, &mut w).await;
                    let _ = w.close().await;
                    drop(permit);
                    true
                },
            )
            .unwrap();
        let addr = a.snapshot().listen[0].clone();
        b.connect(&format!("{addr}/p2p/{}", a.peer_id()))
            .await
            .unwrap();
        const N: usize = 10 << 20;
        for transport in 0..2 {
            let _ = transport;
            let data: Vec<u8> = (0..N).map(|i| (i * 7 + i / 251) as u8).collect();
            let started = std::time::Instant::now();
            let stream = net_b.open(&a.peer_id().to_base58(), "bench").await.unwrap();
            let (mut r, mut w) = stream.split();
            let send = async {
                for chunk in data.chunks(64 * 1024) {
                    w.write_all(chunk).await.unwrap();
                }
                w.close().await.unwrap();
            };
            let receive = async {
                let mut back = Vec::with_capacity(N);
                r.read_to_end(&mut back).await.unwrap();
                back
            };
            let ((), back) = futures::join!(send, receive);
            let secs = started.elapsed().as_secs_f64();
            assert!(back == data);
            println!(
                "raw libp2p (TCP): {N} bytes both ways in {:.0} ms ({:.1} MiB/s each way)",
                secs * 1e3,
                N as f64 / secs / (1024.0 * 1024.0)
            );
        }
    });
}

/// Echoes nothing: just holds the stream it is handed.
struct Accepting;

impl ww_capnp::system_capnp::stream_handler::Server for Accepting {}

#[test]
fn releasing_the_listener_stops_listening() {
    use ww_capnp::system_capnp::{stream_handler, stream_listener};
    run(async {
        let a = start_with(loopback()).await.unwrap();
        let b = start_with(loopback()).await.unwrap();
        let a_id = id(&a).await;
        connect(&b, &addrs(&a).await[0]).await.unwrap();
        let network = a.network_request().send().pipeline;
        let listener: stream_listener::Client = network.get_listener();
        let mut request = listener.listen_request();
        request.get().set_protocol("held");
        let handler: stream_handler::Client = capnp_rpc::new_client(Accepting);
        request.get().set_handler(handler);
        request.send().promise.await.unwrap();
        drop(network);

        let dial = |b: host::Client, peer: String| async move {
            let dialer = b.network_request().send().pipeline.get_dialer();
            let mut request = dialer.dial_request();
            request.get().set_peer(peer.as_str());
            request.get().set_protocol("held");
            request.send().promise.await.map(|_| ())
        };
        dial(b.clone(), a_id.clone()).await.expect("A listens");
        drop(listener);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match dial(b.clone(), a_id.clone()).await {
                Err(e) if e.to_string().contains("does not serve") => break,
                other => assert!(
                    std::time::Instant::now() < deadline,
                    "still listening after release: {other:?}"
                ),
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    });
}
