//! Blocks as a peer (or an IPFS layer) supplies them: put in a real
//! on-disk [`Blockstore`] under their real hashes, then read back through
//! the IPFS provider's reader, as `cat`, `ls` and the layer fetcher do.
//!
//! An input is a flags byte and then blocks, each prefixed with its length
//! (two bytes, little-endian). The first block is the root:
//!
//! - bit 0 of the flags: the root is a raw block (else dag-pb);
//! - bit 1: the root CID is v0 (only for dag-pb).
//!
//! Every block is stored under its sha2-256 hash, so a dag-pb link whose
//! CID hashes another block of the input resolves to it; the seed corpus
//! holds real multi-block DAGs whose links the fuzzer keeps as it mutates
//! around them.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use cid::Cid;
use futures::StreamExt;
use multihash::Multihash;
use sha2::{Digest, Sha256};
use ww_ipfs::blocks::Blocks;
use ww_ipfs::blockstore::{Blockstore, SHA2_256};
use ww_ipfs::path::IpfsPath;
use ww_ipfs::reader::{self, DAG_PB, RAW};

/// The flags bit that makes the root a raw block.
pub const RAW_ROOT: u8 = 1;
/// The flags bit that makes the root CID v0.
pub const V0_ROOT: u8 = 2;

/// At most this many bytes of a file are read back per input.
const MAX_READ: usize = 1 << 20;

/// Splits an input into its flags and blocks (a truncated last block is
/// taken as it is).
pub fn split(input: &[u8]) -> Option<(u8, Vec<&[u8]>)> {
    let (&flags, mut rest) = input.split_first()?;
    let mut blocks = Vec::new();
    while rest.len() >= 2 {
        let len = u16::from_le_bytes([rest[0], rest[1]]) as usize;
        let body = &rest[2..];
        let len = len.min(body.len());
        blocks.push(&body[..len]);
        rest = &body[len..];
    }
    (!blocks.is_empty()).then_some((flags, blocks))
}

/// Joins `blocks` into an input with `flags`.
pub fn join(flags: u8, blocks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![flags];
    for block in blocks {
        out.extend_from_slice(&(block.len() as u16).to_le_bytes());
        out.extend_from_slice(block);
    }
    out
}

/// The CID a block is stored and linked under.
pub fn cid_of(codec: u64, block: &[u8], v0: bool) -> Cid {
    let hash = Multihash::<64>::wrap(SHA2_256, &Sha256::digest(block)).expect("32 bytes fit");
    if v0 && codec == DAG_PB {
        Cid::new_v0(hash).expect("sha2-256 is v0")
    } else {
        Cid::new_v1(codec, hash)
    }
}

/// A scratch store on a RAM disk when there is one, emptied after each
/// input.
fn store_dir() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    let base = if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    };
    base.join(format!("ww-fuzz-blocks-{}", std::process::id()))
}

thread_local! {
    static STORE: Blockstore = Blockstore::open(&store_dir()).expect("a scratch blockstore");
}

/// Reads one input back through the reader: what the root is, its listing
/// (and each entry's kind, one level down), and its content when it is a
/// file.
pub fn read(input: &[u8]) {
    // The reader contains rust-unixfs's panics on malformed blocks and
    // turns them into errors; libFuzzer's hook would abort on those
    // contained panics too. This hook only prints the panic (without the
    // backtrace that made every contained panic slow); a panic that
    // escapes the reader still crashes the run (libfuzzer-sys aborts on
    // it).
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| std::panic::set_hook(Box::new(|info| eprintln!("{info}"))));
    let Some((flags, raw)) = split(input) else {
        return;
    };
    let store = STORE.with(Blockstore::clone);
    for block in &raw {
        let cid = cid_of(DAG_PB, block, false);
        store.put(&cid, block).expect("a block under its own hash");
    }
    let codec = if flags & RAW_ROOT != 0 { RAW } else { DAG_PB };
    let root = cid_of(codec, raw[0], flags & V0_ROOT != 0);
    let blocks = Blocks::new(store.clone(), None, Duration::ZERO);
    futures::executor::block_on(walk(&blocks, root, raw[0]));
    store
        .sweep(&HashSet::new())
        .expect("emptying the scratch store");
}

async fn walk(blocks: &Blocks, root: Cid, block: &[u8]) {
    let _ = reader::kind_of(&root, block);
    let path = IpfsPath {
        root,
        segments: Vec::new(),
    };
    if let Ok(entries) = reader::ls(blocks, &path).await {
        for entry in entries.iter().take(8) {
            let below = IpfsPath {
                root,
                segments: vec![entry.name.clone()],
            };
            if let Ok((cid, block)) = reader::resolve(blocks, &below).await {
                let _ = reader::kind_of(&cid, &block);
            }
        }
    }
    if let Ok((cid, first, _size)) = reader::open(blocks, &path).await {
        let (sink, mut chunks) = futures::channel::mpsc::channel(4);
        let send = reader::stream_file(blocks, cid, first, root, sink);
        let take = async {
            let mut read = 0;
            while let Some(chunk) = chunks.next().await {
                read += chunk.len();
                if read > MAX_READ {
                    break;
                }
            }
            drop(chunks);
        };
        let (result, ()) = futures::join!(send, take);
        let _ = result;
    }
}
