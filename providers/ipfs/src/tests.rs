//! The importer against Kubo's CIDs, the store's checks, and reading back.
//!
//! Inputs come from [`content`], the same generator as
//! `fixtures/make.py`, which recorded Kubo's CIDs in
//! `fixtures/kubo-cids.json`. Files are also checked live against Debian's
//! `ipfs_cid` (installed by scripts/setup.sh).

use std::collections::BTreeMap;
use std::time::Duration;

use cid::{Cid, Version};
use futures::channel::mpsc;
use futures::StreamExt;

use crate::blocks::Blocks;
use crate::blockstore::Blockstore;
use crate::error::IpfsError;
use crate::gc::collect;
use crate::importer::{add_bytes, add_directory, AddOptions, Entry, FileImport};
use crate::path::IpfsPath;
use crate::pins::Pins;
use crate::reader;

/// `length` bytes of xorshift64 output seeded with `seed`.
fn content(length: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
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

const FILES: &[(&str, usize, u64)] = &[
    ("empty", 0, 1),
    ("one-byte", 1, 2),
    ("chunk", 256 * 1024, 3),
    ("chunk-plus-one", 256 * 1024 + 1, 4),
    ("ten-mib", 10 * 1024 * 1024, 5),
];

fn tree() -> Vec<(String, Vec<u8>)> {
    vec![
        ("a.txt".into(), content(6, 10)),
        ("sub/b.txt".into(), content(100, 11)),
        ("sub/deeper/c.bin".into(), content(300 * 1024, 12)),
        ("sub/deeper/d".into(), content(0, 13)),
    ]
}

fn fixtures() -> BTreeMap<String, String> {
    let text = include_str!("../fixtures/kubo-cids.json");
    let value: serde_json::Value = serde_json::from_str(text).expect("fixture is JSON");
    value
        .as_object()
        .expect("fixture is an object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("CID text").to_string()))
        .collect()
}

fn store() -> (tempfile::TempDir, Blockstore) {
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(dir.path()).unwrap();
    (dir, store)
}

fn add_tree(store: &Blockstore) -> Cid {
    let files = tree();
    let mut entries: Vec<(String, Entry<'_>)> = files
        .iter()
        .map(|(p, d)| (p.clone(), Entry::File(d)))
        .collect();
    entries.push(("empty/".into(), Entry::EmptyDirectory));
    add_directory(store, &entries, AddOptions::default()).unwrap()
}

#[test]
fn file_cids_equal_kubos_fixtures() {
    let (_dir, store) = store();
    let expected = fixtures();
    for (name, length, seed) in FILES {
        let cid = add_bytes(&store, &content(*length, *seed), AddOptions::default()).unwrap();
        assert_eq!(cid.to_string(), expected[*name], "{name}");
    }
}

#[test]
fn file_cids_equal_the_ipfs_cid_oracle() {
    let (dir, store) = store();
    for (name, length, seed) in FILES {
        let data = content(*length, *seed);
        let path = dir.path().join(name);
        std::fs::write(&path, &data).unwrap();
        let out = std::process::Command::new("ipfs_cid")
            .arg(&path)
            .output()
            .expect("ipfs_cid runs (scripts/setup.sh installs Debian's ipfs-cid)");
        let oracle: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let cid = add_bytes(&store, &data, AddOptions::default()).unwrap();
        assert_eq!(cid.to_string(), oracle["CIDv0"], "{name} CIDv0");
        // The oracle's CIDv1 names the same (CIDv0-linked) DAG's root.
        let v1 = cid.into_v1().unwrap();
        assert_eq!(v1.to_string(), oracle["CIDv1"], "{name} CIDv1");
    }
}

#[test]
fn nested_directory_cid_equals_kubos() {
    let (_dir, store) = store();
    assert_eq!(add_tree(&store).to_string(), fixtures()["tree"]);
}

#[test]
fn raw_leaves_with_cidv1_as_kubo_gives() {
    let (_dir, store) = store();
    // `printf hello | ipfs add --raw-leaves --cid-version 1`
    let cid = add_bytes(&store, b"hello", AddOptions::new(1, true).unwrap()).unwrap();
    assert_eq!(
        cid.to_string(),
        "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
    );
    let err = AddOptions::new(0, true).unwrap_err().to_string();
    assert!(err.contains("CIDv1"), "{err}");
    assert!(AddOptions::new(2, false).is_err());
}

pub(crate) fn local(store: &Blockstore) -> Blocks {
    Blocks::new(store.clone(), None, Duration::from_secs(1))
}

pub(crate) async fn cat(blocks: &Blocks, path: &str) -> Result<Vec<u8>, IpfsError> {
    let path = IpfsPath::parse(path)?;
    let (cid, block, _) = reader::open(blocks, &path).await?;
    let (tx, rx) = mpsc::channel(4);
    let (walked, chunks) = futures::join!(
        reader::stream_file(blocks, cid, block, path.root, tx),
        rx.collect::<Vec<Vec<u8>>>()
    );
    walked?;
    Ok(chunks.concat())
}

#[tokio::test]
async fn files_read_back_byte_exact_in_every_layout() {
    let (_dir, store) = store();
    let blocks = local(&store);
    for options in [
        AddOptions::default(),
        AddOptions::new(1, false).unwrap(),
        AddOptions::new(1, true).unwrap(),
    ] {
        for (name, length, seed) in FILES {
            let data = content(*length, *seed);
            let cid = add_bytes(&store, &data, options).unwrap();
            assert_eq!(options.cid_version, cid.version());
            let back = cat(&blocks, &format!("/ipfs/{cid}")).await.unwrap();
            assert!(back == data, "{name} with {options:?} differs");
        }
    }
}

#[tokio::test]
async fn directories_list_and_walk() {
    let (_dir, store) = store();
    let blocks = local(&store);
    let root = add_tree(&store);
    let entries = reader::ls(&blocks, &IpfsPath::parse(&format!("/ipfs/{root}")).unwrap())
        .await
        .unwrap();
    let names: Vec<_> = entries
        .iter()
        .map(|e| (e.name.as_str(), e.is_directory))
        .collect();
    assert_eq!(names, [("a.txt", false), ("empty", true), ("sub", true)]);
    assert_eq!(entries[0].size, 6);
    let c = cat(&blocks, &format!("{root}/sub/deeper/c.bin"))
        .await
        .unwrap();
    assert!(c == content(300 * 1024, 12));
    let d = cat(&blocks, &format!("ipfs://{root}/sub/deeper/d"))
        .await
        .unwrap();
    assert!(d.is_empty());
}

#[tokio::test]
async fn bad_paths_say_what_is_wrong() {
    let (_dir, store) = store();
    let blocks = local(&store);
    let root = add_tree(&store);
    let err = |path: String| {
        let blocks = blocks.clone();
        async move {
            match IpfsPath::parse(&path) {
                Err(e) => e.to_string(),
                Ok(p) => reader::ls(&blocks, &p).await.unwrap_err().to_string(),
            }
        }
    };
    let through_file = err(format!("/ipfs/{root}/a.txt/x")).await;
    assert!(through_file.contains("under a file"), "{through_file}");
    let missing = err(format!("/ipfs/{root}/nope")).await;
    assert!(missing.contains("no entry `nope`"), "{missing}");
    let not_dir = err(format!("/ipfs/{root}/a.txt")).await;
    assert!(not_dir.contains("is a file, not a directory"), "{not_dir}");
    let malformed = err("/ipfs/QmNotACid".into()).await;
    assert!(malformed.contains("not a CID"), "{malformed}");
    let empty = err("/ipfs/".into()).await;
    assert!(empty.contains("names no CID"), "{empty}");
    let ipns = err("/ipns/example.com".into()).await;
    assert!(ipns.contains("IPNS"), "{ipns}");
}

/// Found by the `layer_specs` fuzz target: the parser trimmed the end of
/// the whole path, so a last name ending in whitespace named another
/// entry, and the path did not print as what it named.
#[tokio::test]
async fn a_name_ending_in_whitespace_is_its_own_entry() {
    let (_dir, store) = store();
    let blocks = local(&store);
    let entries = [
        ("notes".to_string(), Entry::File(b"plain")),
        ("notes ".to_string(), Entry::File(b"spaced")),
        ("tab\t".to_string(), Entry::File(b"tabbed")),
    ];
    let root = add_directory(&store, &entries, AddOptions::default()).unwrap();
    let spaced = format!("/ipfs/{root}/notes ");
    assert_eq!(cat(&blocks, &spaced).await.unwrap(), b"spaced");
    assert_eq!(
        cat(&blocks, &format!("/ipfs/{root}/notes")).await.unwrap(),
        b"plain"
    );
    let tabbed = format!("/ipfs/{root}/tab\t");
    assert_eq!(cat(&blocks, &tabbed).await.unwrap(), b"tabbed");
    for text in [spaced, tabbed] {
        let path = IpfsPath::parse(&text).unwrap();
        assert_eq!(path.to_string(), text);
        assert_eq!(IpfsPath::parse(&path.to_string()).unwrap(), path);
    }
    // Whitespace around a bare CID still goes.
    let bare = IpfsPath::parse(&format!("  /ipfs/{root} \n")).unwrap();
    assert_eq!((bare.root, bare.segments.len()), (root, 0));
}

#[tokio::test]
async fn a_missing_block_is_named_without_a_network() {
    let (_dir, store) = store();
    let (_other, elsewhere) = self::store();
    let cid = add_bytes(&elsewhere, b"only elsewhere", AddOptions::default()).unwrap();
    let err = cat(&local(&store), &format!("/ipfs/{cid}"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&cid.to_string()) && err.contains("not found"),
        "{err}"
    );
}

#[test]
fn a_corrupted_block_is_detected_on_read_and_removed() {
    let (_dir, store) = store();
    let cid = add_bytes(&store, &content(1000, 7), AddOptions::default()).unwrap();
    let path = store.path_of(&cid);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[20] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let err = store.get(&cid).unwrap_err().to_string();
    assert!(
        err.contains(&cid.to_string()) && err.contains("corrupt"),
        "{err}"
    );
    assert!(!path.exists(), "the corrupt block was removed");
    assert!(store.get(&cid).unwrap().is_none());
}

#[test]
fn a_block_that_does_not_match_its_cid_is_never_stored() {
    let (_dir, store) = store();
    let cid = add_bytes(&store, b"one", AddOptions::default()).unwrap();
    let (_other, other) = self::store();
    let err = other.put(&cid, b"two").unwrap_err();
    assert!(matches!(err, IpfsError::Corrupt { .. }), "{err}");
    assert!(!other.has(&cid));
}

fn stored_files(dir: &std::path::Path) -> usize {
    walk(&dir.join("ipfs"))
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() {
                        walk(&path)
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_failed_or_abandoned_add_leaves_nothing_behind() {
    let (dir, store) = store();
    // A directory add that fails on its last entry (a duplicate path),
    // after several files were imported.
    let data = content(600 * 1024, 9);
    let entries = vec![
        ("x/big".to_string(), Entry::File(&data)),
        ("y".to_string(), Entry::File(b"y")),
        ("x/big".to_string(), Entry::File(b"again")),
    ];
    let err = add_directory(&store, &entries, AddOptions::default()).unwrap_err();
    assert!(err.to_string().contains("x/big"), "{err}");
    let bad = vec![("../up".to_string(), Entry::File(b"z"))];
    assert!(add_directory(&store, &bad, AddOptions::default()).is_err());
    // A streamed add dropped before `finish`.
    let mut import = FileImport::new(&store, AddOptions::default()).unwrap();
    import.write(&data).unwrap();
    drop(import);
    assert_eq!(stored_files(dir.path()), 0);
    // Finished, it is all there.
    let cid = add_bytes(&store, &data, AddOptions::default()).unwrap();
    assert!(store.has(&cid));
    assert_eq!(stored_files(dir.path()), 4, "three leaves and a root");
    assert_eq!(cid.version(), Version::V0);
}

fn stored_blocks(dir: &std::path::Path) -> usize {
    walk(&dir.join("ipfs/blocks"))
}

#[tokio::test]
async fn unpinning_collects_what_no_other_pin_reaches() {
    let (dir, store) = store();
    let pins = Pins::open(dir.path()).unwrap();
    // The small file's four full chunks are the big one's first four.
    let big_data = content(2 << 20, 5);
    let small_data = content((1 << 20) + 1000, 5);
    let big = add_bytes(&store, &big_data, AddOptions::default()).unwrap();
    let small = add_bytes(&store, &small_data, AddOptions::default()).unwrap();
    // Not pinned: collected by the first collection.
    let loose = add_bytes(&store, b"loose", AddOptions::default()).unwrap();
    pins.add(&big).unwrap();
    pins.add(&small).unwrap();
    // big: 8 leaves + root; small: 4 shared + 1 leaf + root; loose: 1.
    assert_eq!(stored_blocks(dir.path()), 12);

    pins.unpin(&big).unwrap();
    let swept = collect(&store, &pins)
        .unwrap()
        .expect("no other process adds");
    assert_eq!(swept.removed, 6, "big's root, its 4 own leaves, loose");
    assert_eq!(stored_blocks(dir.path()), 6);
    assert!(!store.has(&big) && !store.has(&loose));
    let blocks = local(&store);
    assert_eq!(cat(&blocks, &small.to_string()).await.unwrap(), small_data);
    assert!(cat(&blocks, &big.to_string()).await.is_err());

    pins.unpin(&small).unwrap();
    collect(&store, &pins).unwrap();
    assert_eq!(stored_blocks(dir.path()), 0);
}

#[test]
fn a_collection_spares_the_blocks_of_an_add_in_flight() {
    let (dir, store) = store();
    let pins = Pins::open(dir.path()).unwrap();
    let data = content(600 * 1024, 6);
    let first = add_bytes(&store, &data, AddOptions::default()).unwrap();
    pins.add(&first).unwrap();
    // The same bytes again: every block is already stored, so the add
    // stages none of them and relies on the stored ones.
    let mut import = FileImport::new(&store, AddOptions::default()).unwrap();
    import.write(&data).unwrap();
    pins.unpin(&first).unwrap();
    let swept = collect(&store, &pins)
        .unwrap()
        .expect("no other process adds");
    // The two full chunks the add has made (found stored) are held; the
    // last chunk and the root it has not made yet go, and it stores them
    // itself at `finish`.
    assert_eq!(swept.removed, 2);
    let (again, _, batch) = import.finish().unwrap();
    batch.commit().unwrap();
    assert_eq!(again, first);
    pins.add(&again).unwrap();
    let blocks = local(&store);
    let read = futures::executor::block_on(cat(&blocks, &again.to_string())).unwrap();
    assert!(read == data, "byte-exact");
    // Finished and unpinned, it goes.
    pins.unpin(&again).unwrap();
    assert_eq!(collect(&store, &pins).unwrap().unwrap().removed, 4);
}
