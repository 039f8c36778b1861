//! The stem against a real chain: anvil on 127.0.0.1, the Atom deployed
//! from its committed bytecode, updates mined, reorged, missed and resumed.

mod proxy;

use std::path::Path;
use std::time::Duration;

use cid::Cid;
use tokio::time::timeout;
use ww_stem::{follow, Adoption, Config, Following};
use ww_tests::anvil::Anvil;
use ww_tests::STEP;

const DEPTH: u64 = 3;

fn cid(n: u8) -> Cid {
    // CIDv1, raw: distinct, valid CIDs.
    // Any 32-byte digest makes a well-formed multihash; keccak is at hand.
    let digest = alloy::primitives::keccak256([n]);
    let mh = cid::multihash::Multihash::<64>::wrap(0x12, digest.as_slice()).unwrap();
    Cid::new_v1(0x55, mh)
}

fn config(anvil: &Anvil, atom: &str, cursor: &Path) -> Config {
    Config {
        rpc_url: anvil.http_url(),
        ws_url: anvil.ws_url(),
        depth: DEPTH,
        cursor: Some(cursor.to_path_buf()),
        max_backoff: Duration::from_millis(400),
        ..Config::new(atom)
    }
}

async fn next(following: &mut Following) -> Adoption {
    timeout(STEP, following.adoptions.recv())
        .await
        .expect("an adoption within STEP")
        .expect("the stem is running")
}

/// Waits until the finalizer has settled at `block`.
async fn settled(following: &mut Following, block: u64) {
    timeout(STEP, following.settled.wait_for(|&b| b >= block))
        .await
        .unwrap_or_else(|_| panic!("settled at block {block} within STEP"))
        .expect("the stem is running");
}

fn assert_nothing_adopted(following: &mut Following) {
    if let Ok(a) = following.adoptions.try_recv() {
        panic!("unexpected adoption: {a:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_updates_are_adopted_in_order_only_once_deep_enough() {
    let anvil = Anvil::start();
    let atom = anvil.deploy_atom();
    let dir = tempfile::tempdir().unwrap();
    let mut following = follow(config(&anvil, &atom, &dir.path().join("c")))
        .await
        .unwrap();
    assert!(following.initial.is_none(), "no head yet");

    let first = anvil.set_head(&atom, &cid(1).to_bytes());
    let second = anvil.set_head(&atom, &cid(2).to_bytes());
    assert_eq!(second, first + 1);
    anvil.mine(DEPTH - 1);
    settled(&mut following, first + DEPTH).await;
    let a = next(&mut following).await;
    assert_eq!((a.head.seq, a.head.cid, a.block), (1, cid(1), first));
    // The second is one block short of its depth.
    assert_nothing_adopted(&mut following);

    // The last update is adopted after one more block with no event.
    anvil.mine(1);
    let b = next(&mut following).await;
    assert_eq!((b.head.seq, b.head.cid), (2, cid(2)));
    settled(&mut following, second + DEPTH).await;
    assert_nothing_adopted(&mut following);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_reorged_away_before_its_depth_is_never_adopted() {
    let anvil = Anvil::start();
    let atom = anvil.deploy_atom();
    let dir = tempfile::tempdir().unwrap();
    let mut following = follow(config(&anvil, &atom, &dir.path().join("c")))
        .await
        .unwrap();

    let snapshot = anvil.snapshot();
    let reorged = anvil.set_head(&atom, &cid(7).to_bytes());
    anvil.mine(DEPTH - 1);
    settled(&mut following, reorged + DEPTH - 1).await;
    assert_nothing_adopted(&mut following);
    anvil.revert(&snapshot);
    // The replacement chain grows past the old update's depth, then
    // carries another update.
    anvil.mine(DEPTH + 2);
    let kept = anvil.set_head(&atom, &cid(8).to_bytes());
    anvil.mine(DEPTH);
    let a = next(&mut following).await;
    assert_eq!((a.head.seq, a.head.cid, a.block), (1, cid(8), kept));
    settled(&mut following, kept + DEPTH).await;
    assert_nothing_adopted(&mut following);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_neither_replays_nor_skips() {
    let anvil = Anvil::start();
    let atom = anvil.deploy_atom();
    let dir = tempfile::tempdir().unwrap();
    let cursor = dir.path().join("state/cursor.json");

    let mut following = follow(config(&anvil, &atom, &cursor)).await.unwrap();
    anvil.set_head(&atom, &cid(1).to_bytes());
    anvil.mine(DEPTH);
    assert_eq!(next(&mut following).await.head.seq, 1);
    drop(following);

    // While stopped: one update reaches its depth, one does not yet.
    anvil.set_head(&atom, &cid(2).to_bytes());
    anvil.mine(DEPTH);
    let third = anvil.set_head(&atom, &cid(3).to_bytes());

    let mut following = follow(config(&anvil, &atom, &cursor)).await.unwrap();
    let initial = following
        .initial
        .clone()
        .expect("resumes on the adopted head");
    assert_eq!((initial.seq, initial.cid), (1, cid(1)));
    let b = next(&mut following).await;
    assert_eq!((b.head.seq, b.head.cid), (2, cid(2)));
    anvil.mine(DEPTH);
    let c = next(&mut following).await;
    assert_eq!((c.head.seq, c.head.cid, c.block), (3, cid(3), third));
    settled(&mut following, third + DEPTH).await;
    assert_nothing_adopted(&mut following);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_missed_while_the_websocket_is_down_is_backfilled() {
    let anvil = Anvil::start();
    let atom = anvil.deploy_atom();
    let dir = tempfile::tempdir().unwrap();
    let mut relay = proxy::Proxy::start(anvil.port());
    let mut following = follow(Config {
        ws_url: relay.ws_url(),
        ..config(&anvil, &atom, &dir.path().join("c"))
    })
    .await
    .unwrap();
    anvil.set_head(&atom, &cid(1).to_bytes());
    anvil.mine(DEPTH);
    assert_eq!(next(&mut following).await.head.seq, 1);

    relay.cut();
    anvil.set_head(&atom, &cid(2).to_bytes());
    anvil.mine(DEPTH);
    relay.restore();
    let b = next(&mut following).await;
    assert_eq!((b.head.seq, b.head.cid), (2, cid(2)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_clearly() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let cursor = dir.path().join("c");

    // No code at the address.
    let nobody = "0x00000000000000000000000000000000000000aa";
    let err = follow(config(&anvil, nobody, &cursor)).await.err().unwrap();
    assert!(err.to_string().contains("no contract code at"), "{err}");

    // Not an address at all.
    let err = follow(config(&anvil, "0x12", &cursor)).await.err().unwrap();
    assert!(
        err.to_string().contains("--stem `0x12` is not valid"),
        "{err}"
    );

    // An RPC URL that refuses connections.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let atom = anvil.deploy_atom();
    let err = follow(Config {
        rpc_url: format!("http://127.0.0.1:{port}"),
        ..config(&anvil, &atom, &cursor)
    })
    .await
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("cannot reach the chain at"),
        "{err}"
    );

    // A head that is not a CID is never adopted; the next good one is.
    let mut following = follow(config(&anvil, &atom, &cursor)).await.unwrap();
    let bad = anvil.set_head(&atom, b"not a cid");
    anvil.mine(DEPTH);
    settled(&mut following, bad + DEPTH).await;
    assert_nothing_adopted(&mut following);
    anvil.set_head(&atom, &cid(2).to_bytes());
    anvil.mine(DEPTH);
    let a = next(&mut following).await;
    assert_eq!((a.head.seq, a.head.cid), (2, cid(2)));
}
