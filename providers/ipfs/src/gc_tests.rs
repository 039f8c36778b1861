//! Collection beside adds in flight, and past the store's limit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::blockstore::Blockstore;
use crate::check::{check, CheckOptions};
use crate::gc::collect;
use crate::importer::{add_bytes, add_bytes_then, AddOptions};
use crate::pins::Pins;

/// `length` bytes that differ with `seed` (xorshift64).
fn content(length: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(length + 8);
    while out.len() < length {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(length);
    out
}

#[test]
fn collections_beside_concurrent_adds_take_no_pinned_block_and_none_being_added() {
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(dir.path()).unwrap();
    let pins = Pins::open(dir.path()).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    // One thread collects as often as it can while the others add.
    let collector = {
        let (store, pins, done) = (store.clone(), pins.clone(), done.clone());
        std::thread::spawn(move || {
            let mut rounds = 0u32;
            while !done.load(Ordering::Relaxed) || rounds == 0 {
                collect(&store, &pins).unwrap();
                rounds += 1;
            }
            rounds
        })
    };
    let adders: Vec<_> = (0..3u64)
        .map(|t| {
            let (store, pins) = (store.clone(), pins.clone());
            std::thread::spawn(move || {
                let mut pinned = Vec::new();
                for i in 0..12u64 {
                    // Half of each file is shared by every thread, so adds
                    // find blocks stored that a collection could take.
                    let mut data = content(512 * 1024, 7);
                    data.extend(content(300 * 1024, 100 * t + i + 1));
                    let cid =
                        add_bytes_then(&store, &data, AddOptions::default(), |cid| pins.add(cid))
                            .unwrap();
                    pinned.push((cid, data));
                    // Unpinned: fair game for the collector.
                    add_bytes(&store, &content(1000, 1000 + i), AddOptions::default()).unwrap();
                }
                pinned
            })
        })
        .collect();
    let pinned: Vec<_> = adders.into_iter().flat_map(|a| a.join().unwrap()).collect();
    done.store(true, Ordering::Relaxed);
    assert!(collector.join().unwrap() > 0);

    let report = check(dir.path(), CheckOptions::default()).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.pins, pinned.len());
    let blocks = crate::tests::local(&store);
    for (cid, data) in pinned {
        let read =
            futures::executor::block_on(crate::tests::cat(&blocks, &cid.to_string())).unwrap();
        assert!(read == data, "{cid} reads back byte-exact");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_store_past_its_limit_is_collected_down_to_its_pins() {
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(dir.path()).unwrap();
    let pins = Pins::open(dir.path()).unwrap();
    let kept = content(300 * 1024, 1);
    let pinned = add_bytes_then(&store, &kept, AddOptions::default(), |cid| pins.add(cid)).unwrap();
    let limit = 1 << 20;
    assert!(store.measure(limit).unwrap() < limit);
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            tokio::task::spawn_local(crate::gc::run_when_over(store.clone(), pins.clone()));
            // A cache of fetched blocks (never pinned) grows past the limit.
            for seed in 0..6 {
                add_bytes(
                    &store,
                    &content(256 * 1024, 10 + seed),
                    AddOptions::default(),
                )
                .unwrap();
            }
            assert!(store.usage().bytes() > limit);
            // The collector runs on this thread: yield until it has.
            for _ in 0..1000 {
                if store.usage().bytes() <= limit {
                    break;
                }
                tokio::task::yield_now().await;
            }
            assert!(store.usage().bytes() <= limit, "collected");
        })
        .await;
    assert!(store.has(&pinned));
    let report = check(dir.path(), CheckOptions::default()).unwrap();
    assert!(report.is_clean() && report.pins == 1, "{report}");
    assert_eq!(report.blocks, 3, "the pinned file's blocks alone: {report}");
}
