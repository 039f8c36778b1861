//! The data dir's check: what it finds, what a repair leaves.

use std::fs;

use crate::blockstore::Blockstore;
use crate::check::{check, CheckOptions};
use crate::importer::{add_bytes, AddOptions};
use crate::pins::Pins;

/// Two pinned files of several blocks each (CIDv0, 256 KiB chunks).
fn store_with_two_pins(dir: &std::path::Path) -> (Blockstore, Pins, [cid::Cid; 2]) {
    let store = Blockstore::open(dir).unwrap();
    let pins = Pins::open(dir).unwrap();
    let a = add_bytes(&store, &vec![1u8; 600 * 1024], AddOptions::default()).unwrap();
    let b = add_bytes(&store, &vec![2u8; 300 * 1024], AddOptions::default()).unwrap();
    pins.add(&a).unwrap();
    pins.add(&b).unwrap();
    (store, pins, [a, b])
}

const REPORT: CheckOptions = CheckOptions {
    repair: false,
    gc: false,
};
const REPAIR: CheckOptions = CheckOptions {
    repair: true,
    gc: false,
};

#[test]
fn a_sound_store_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    store_with_two_pins(dir.path());
    let report = check(dir.path(), REPORT).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.pins, 2);
    assert!(report.to_string().ends_with("clean"), "{report}");
}

#[test]
fn corrupt_blocks_dangling_pins_and_leftovers_are_found_then_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _pins, [a, b]) = store_with_two_pins(dir.path());
    // A flipped byte in `a`'s root, a file that is no block, and what a
    // writer that is gone left (pids above the kernel's maximum never run).
    let root = store.path_of(&a);
    let mut bytes = fs::read(&root).unwrap();
    bytes[3] ^= 1;
    fs::write(&root, bytes).unwrap();
    let stray = root.with_file_name("not-a-block");
    fs::write(&stray, b"x").unwrap();
    let tmp = dir.path().join("ipfs/tmp");
    fs::create_dir(tmp.join("batch-4294967295-7")).unwrap();
    fs::write(tmp.join("batch-4294967295-7/0"), b"half").unwrap();
    // A live writer's staging is not a leftover.
    let live = tmp.join(format!("block-{}-1", std::process::id()));
    fs::write(&live, b"in flight").unwrap();

    let report = check(dir.path(), REPORT).unwrap();
    assert!(!report.is_clean());
    let mut corrupt = vec![stray.clone(), root.clone()];
    corrupt.sort();
    assert_eq!(report.corrupt, corrupt);
    assert_eq!(report.dangling.len(), 1, "{report}");
    assert_eq!(report.dangling[0].pin, a.into_v1().unwrap().to_string());
    assert_eq!(report.leftovers.len(), 1, "{report}");
    assert_eq!(report.pins, 1);
    assert!(report.to_string().contains("ww check --repair"), "{report}");
    // Reporting changed nothing.
    assert!(root.exists() && stray.exists());

    let repaired = check(dir.path(), REPAIR).unwrap();
    assert!(repaired.to_string().contains("repaired"), "{repaired}");
    assert!(!root.exists() && !stray.exists() && live.exists());
    assert!(!tmp.join("batch-4294967295-7").exists());
    let after = check(dir.path(), REPORT).unwrap();
    assert!(after.is_clean() && after.leftovers.is_empty(), "{after}");
    assert_eq!(after.pins, 1);
    // What stays is readable: `b` whole.
    assert!(store.get(&b).unwrap().is_some());
}

#[test]
fn a_collection_keeps_what_pins_reach() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _pins, [a, _]) = store_with_two_pins(dir.path());
    // A block of an add killed midway: stored, never pinned.
    let orphan = add_bytes(&store, b"orphan", AddOptions::default()).unwrap();
    let report = check(
        dir.path(),
        CheckOptions {
            repair: true,
            gc: true,
        },
    )
    .unwrap();
    assert_eq!(report.collected.unwrap().removed, 1, "{report}");
    assert!(!store.has(&orphan) && store.has(&a));
}

#[test]
fn a_repair_is_refused_while_a_writer_holds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let _node = crate::Lease::shared(dir.path()).unwrap();
    let err = check(dir.path(), REPAIR).unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");
    // Reporting needs no lease.
    check(dir.path(), REPORT).unwrap();
}
