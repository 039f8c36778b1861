//! Writes the seed corpora under `corpus/<target>/`: real frames recorded
//! from a real client vat talking to the real membrane, real blocks from
//! the real importer, real Bitswap frames, and a few inputs per mode for
//! the rest. `cargo fuzz build` builds it beside the targets; run the
//! binary (`<target-dir>/<triple>/release/seeds`, see the README).

use std::path::Path;

use rust_unixfs::file::adder::{Chunker, FileAdder};
use ww_fuzz::blocks;
use ww_ipfs::bitswap::message::{
    prefix, Block, BlockPresence, Entry, Message, PresenceType, WantType, Wantlist,
};
use ww_ipfs::bitswap::protocol::frame;
use ww_ipfs::blockstore::Blockstore;
use ww_ipfs::importer::{self, AddOptions};

// The coverage instrumentation of a fuzz build calls into libFuzzer.
use libfuzzer_sys as _;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let write = |target: &str, name: &str, data: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("corpus directory");
        std::fs::write(dir.join(name), data).expect("seed written");
    };

    for (name, src) in [
        ("arith", "(+ 1 2) (* 6 7) (- 1) (/ 10 3) (mod -7 2)"),
        ("defn", "(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 20)"),
        ("loop", "(loop [i 0 acc []] (if (< i 10) (recur (inc i) (conj acc i)) acc))"),
        ("let", "(let [x 1 {:keys [a b]} {:a 2 :b 3} [p & q] [4 5 6]] [x a b p q])"),
        ("coll", "(map inc [1 2 3]) (filter odd? #{1 2 3}) (reduce + 0 (range 10)) {:a [1 \"s\" \\c] 'b nil}"),
        ("try", "(try (throw (ex-info \"boom\" {:x 1})) (catch e (ex-data e)))"),
        ("strings", "(str \"a\" 1 :k) (pr-str [1 \"x\"]) (println \"hi\" 'sym)"),
        ("cap", "(echo say 1 \"two\" [3]) (echo fail) (echo nope)"),
        ("forever", "(loop [] (recur))"),
        ("deep", "(defn f [n] (+ 1 (f n))) (f 1)"),
        ("fn", "((fn ([] 0) ([a & r] (count r))) 1 2 3) (apply + [1 2])"),
        ("incomplete", "(def x [1 2"),
    ] {
        write("glia_read_eval", name, src.as_bytes());
    }

    for (name, flags, dag) in unixfs_dags() {
        write("unixfs_blocks", name, &blocks::join(flags, &dag));
    }

    let (stored, wanted) = ww_fuzz::bitswap::known();
    let missing = blocks::cid_of(ww_ipfs::reader::RAW, b"nobody has this", false);
    let want = |cid: &cid::Cid, want_type: WantType, cancel: bool| Entry {
        block: cid.to_bytes(),
        priority: 1,
        cancel,
        want_type: want_type as i32,
        send_dont_have: true,
    };
    let messages = [
        (
            "wants",
            Message {
                wantlist: Some(Wantlist {
                    entries: vec![
                        want(&stored, WantType::Block, false),
                        want(&stored, WantType::Have, false),
                        want(&missing, WantType::Block, false),
                        want(&missing, WantType::Have, false),
                    ],
                    full: true,
                }),
                ..Message::default()
            },
        ),
        (
            "cancel",
            Message {
                wantlist: Some(Wantlist {
                    entries: vec![want(&missing, WantType::Block, true)],
                    full: false,
                }),
                ..Message::default()
            },
        ),
        (
            "blocks",
            Message {
                blocks: vec![ww_fuzz::bitswap::WANTED.to_vec()],
                payload: vec![Block {
                    prefix: prefix(&wanted),
                    data: ww_fuzz::bitswap::WANTED.to_vec(),
                }],
                ..Message::default()
            },
        ),
        (
            "presences",
            Message {
                block_presences: vec![
                    BlockPresence {
                        cid: wanted.to_bytes(),
                        r#type: PresenceType::DontHave as i32,
                    },
                    BlockPresence {
                        cid: stored.to_bytes(),
                        r#type: PresenceType::Have as i32,
                    },
                ],
                pending_bytes: 12,
                ..Message::default()
            },
        ),
    ];
    let mut all = Vec::new();
    for (name, message) in &messages {
        let framed = frame(message);
        all.extend_from_slice(&framed);
        write("bitswap_messages", name, &[&[3u8][..], &framed].concat());
    }
    write("bitswap_messages", "all", &[&[7u8][..], &all].concat());
}

/// Real DAGs: a file in small chunks (a root with links), a one-block
/// file, a raw leaf, and a directory from the importer.
fn unixfs_dags() -> Vec<(&'static str, u8, Vec<Vec<u8>>)> {
    let text: Vec<u8> = (0..300u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut adder = FileAdder::builder().with_chunker(Chunker::Size(64)).build();
    let mut chunked = Vec::new();
    let mut data = text.as_slice();
    while !data.is_empty() {
        let (made, consumed) = adder.push(data);
        chunked.extend(made.map(|(_, block)| block));
        data = &data[consumed..];
    }
    chunked.extend(adder.finish().map(|(_, block)| block));
    chunked.reverse(); // the root, last made, first

    let mut small = FileAdder::default();
    let (made, _) = small.push(b"hello world\n");
    let mut one: Vec<Vec<u8>> = made.map(|(_, b)| b).collect();
    one.extend(small.finish().map(|(_, b)| b));
    one.reverse();

    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = Blockstore::open(dir.path()).expect("a store");
    let options = AddOptions::new(0, false).expect("options");
    let root = importer::add_directory(
        &store,
        &[
            ("a.txt".into(), importer::Entry::File(b"alpha\n")),
            ("sub/b.txt".into(), importer::Entry::File(b"beta\n")),
            ("empty".into(), importer::Entry::EmptyDirectory),
        ],
        options,
    )
    .expect("a directory");
    let mut tree = vec![store.get(&root).unwrap().expect("the root")];
    for entry in walkdir(&dir.path().join("ipfs/blocks")) {
        let block = std::fs::read(entry).unwrap();
        if block != tree[0] {
            tree.push(block);
        }
    }

    vec![
        ("chunked-file", 0, chunked),
        ("one-block-file", blocks::V0_ROOT, one),
        ("raw-leaf", blocks::RAW_ROOT, vec![b"raw bytes\n".to_vec()]),
        ("directory", blocks::V0_ROOT, tree),
    ]
}

/// Every file under `dir`, in name order.
fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}
