//! Hostile blocks the fuzz target `unixfs_blocks` found, read back as a
//! peer would serve them.

use std::time::Duration;

use cid::Cid;
use multihash::Multihash;
use sha2::{Digest, Sha256};

use crate::blocks::Blocks;
use crate::blockstore::{Blockstore, SHA2_256};
use crate::error::IpfsError;
use crate::path::IpfsPath;
use crate::reader::{self, Kind, DAG_PB};

/// A dag-pb node whose link carries an unknown field that runs past the
/// end of the link: rust-unixfs's protobuf reader overflowed on it.
const OVERRUNNING_LINK: &[u8] = &[
    0x12, 0x2a, 0x0a, 0x24, 0x01, 0x02, 0x0c, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x4e, 0x00, 0xa4, 0xbf,
    0x8b, 0xe4, 0x22, 0xc3, 0xdd, 0xfa, 0xfb, 0x93, 0xc8, 0x09, 0xe8, 0xd1, 0xe2, 0xbf, 0xff, 0xae,
    0x8e, 0x12, 0x00, 0x18, 0x18, 0x12, 0x2a, 0x3d, 0x08, 0x7d, 0xf5, 0xd6, 0xfa, 0x3c, 0x53, 0x79,
    0x67, 0xeb, 0xca, 0xb8, 0x5d, 0x15, 0x8e, 0x0d, 0xee, 0xb2, 0xf4, 0x50, 0x82, 0x9a, 0x48, 0x12,
    0x03, 0x73, 0x75, 0x62, 0x0a, 0x24, 0x01, 0x55, 0x12, 0x20, 0x1c, 0x70, 0x10, 0x37, 0x01, 0x3d,
    0x83, 0x9b, 0x74, 0x6e, 0x0e, 0xce, 0xd8, 0x0a, 0x24, 0xe7, 0x18, 0x40, 0x0a, 0x02, 0x08, 0x01,
    0x04, 0x00, 0x0a, 0x02, 0x08, 0x01, 0x0d, 0x00, 0x0a, 0x0b, 0x08, 0x02, 0x6b, 0x74, 0xbb, 0x12,
    0x05, 0x62, 0x65,
];

#[test]
fn a_link_overrunning_its_message_is_a_malformed_block_not_a_panic() {
    let hash = Multihash::<64>::wrap(SHA2_256, &Sha256::digest(OVERRUNNING_LINK)).unwrap();
    let cid = Cid::new_v1(DAG_PB, hash);
    assert!(matches!(
        reader::kind_of(&cid, OVERRUNNING_LINK),
        Kind::Other(_)
    ));

    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(dir.path()).unwrap();
    store.put(&cid, OVERRUNNING_LINK).unwrap();
    let blocks = Blocks::new(store, None, Duration::ZERO);
    let path = IpfsPath {
        root: cid,
        segments: vec!["sub".into()],
    };
    let err = futures::executor::block_on(reader::resolve(&blocks, &path)).unwrap_err();
    assert!(
        matches!(
            err,
            IpfsError::NotADirectory { .. } | IpfsError::Malformed { .. }
        ),
        "{err}"
    );
}

/// A HAMT shard node with one link named `name`, to the raw block `target`.
fn hamt_shard(name: &str, target: &Cid) -> Vec<u8> {
    let hash = target.to_bytes();
    let mut link = vec![0x0a, hash.len() as u8];
    link.extend_from_slice(&hash);
    link.extend_from_slice(&[0x12, name.len() as u8]);
    link.extend_from_slice(name.as_bytes());
    link.extend_from_slice(&[0x18, 0x01]);
    // UnixFS data: Type = HAMTShard, hashType = murmur3-x64-64, fanout = 256.
    let data = [0x08, 0x05, 0x28, 0x22, 0x30, 0x80, 0x02];
    let mut node = vec![0x12, link.len() as u8];
    node.extend_from_slice(&link);
    node.extend_from_slice(&[0x0a, data.len() as u8]);
    node.extend_from_slice(&data);
    node
}

fn sha256_cid(codec: u64, block: &[u8]) -> Cid {
    Cid::new_v1(
        codec,
        Multihash::<64>::wrap(SHA2_256, &Sha256::digest(block)).unwrap(),
    )
}

#[test]
fn a_shard_link_whose_bucket_is_not_two_hex_digits_is_malformed_not_a_panic() {
    let leaf = b"hello";
    let leaf_cid = sha256_cid(0x55, leaf);
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(dir.path()).unwrap();
    store.put(&leaf_cid, leaf).unwrap();
    let blocks = Blocks::new(store.clone(), None, Duration::ZERO);
    // A well-formed name lists as the entry it names.
    let good = hamt_shard("4Fhello", &leaf_cid);
    let good_cid = sha256_cid(DAG_PB, &good);
    store.put(&good_cid, &good).unwrap();
    let path = IpfsPath {
        root: good_cid,
        segments: vec![],
    };
    let listed = futures::executor::block_on(reader::ls(&blocks, &path)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "hello");
    // The fuzzer's: a name whose second byte is inside a two-byte character
    // (slicing off the bucket panicked); and a name shorter than a bucket.
    for name in ["Xв", "Xвhello", "A"] {
        let bad = hamt_shard(name, &leaf_cid);
        let bad_cid = sha256_cid(DAG_PB, &bad);
        store.put(&bad_cid, &bad).unwrap();
        let path = IpfsPath {
            root: bad_cid,
            segments: vec![],
        };
        let err = futures::executor::block_on(reader::ls(&blocks, &path)).unwrap_err();
        assert!(
            matches!(&err, IpfsError::Malformed { reason, .. } if reason.contains("two hex digits")),
            "{name}: {err}"
        );
    }
}
