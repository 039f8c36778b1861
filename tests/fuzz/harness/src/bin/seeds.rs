//! Writes the seed corpora under `tests/fuzz/corpus/<target>/`: real
//! frames recorded from a real client vat talking to the real membrane and
//! to the real terminal, real blocks from the real importer, real Bitswap
//! frames, and a few inputs per mode for the rest. Run it with
//! `cargo run -p ww-fuzz-harness --bin seeds`.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use capnp_rpc::rpc_twoparty_capnp::Side;
use capnp_rpc::{twoparty, RpcSystem};
use rust_unixfs::file::adder::{Chunker, FileAdder};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
use ww_capnp::identity_capnp::{identity, signer};
use ww_capnp::membrane_capnp::membrane;
use ww_core::epoch::Epochs;
use ww_core::membrane::MembraneServer;
use ww_core::rpc_budget::{CellBudget, RpcLimits};
use ww_fuzz_harness::frames::{self, Recording};
use ww_fuzz_harness::{blocks, exports, login, run_local};
use ww_ipfs::bitswap::message::{
    prefix, Block, BlockPresence, Entry, Message, PresenceType, WantType, Wantlist,
};
use ww_ipfs::bitswap::protocol::frame;
use ww_ipfs::blockstore::Blockstore;
use ww_ipfs::importer::{self, AddOptions};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let write = |target: &str, name: &str, data: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("corpus directory");
        std::fs::write(dir.join(name), data).expect("seed written");
    };

    core_seeds(&write);

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

    let cid = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";
    let cid1 = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    for (name, spec) in [
        ("dir", "./my-image".to_string()),
        ("mount", "~/keys/id:/etc/id".to_string()),
        ("ipfs", format!("/ipfs/{cid}")),
        (
            "ipfs-path",
            format!("/ipfs/{cid}/bin/tool.wasm:/bin/tool.wasm"),
        ),
        ("ipfs-url", format!("ipfs://{cid1}/a/b")),
        ("ipns", "/ipns/example.org".to_string()),
        ("bad-target", "src:/../etc".to_string()),
        ("colon", "C:/dir:with:colons".to_string()),
        ("cid", cid1.to_string()),
    ] {
        write("layer_specs", name, spec.as_bytes());
    }

    for (name, flags, dag) in unixfs_dags() {
        write("unixfs_blocks", name, &blocks::join(flags, &dag));
    }

    let (stored, wanted) = ww_fuzz_harness::bitswap::known();
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
                blocks: vec![ww_fuzz_harness::bitswap::WANTED.to_vec()],
                payload: vec![Block {
                    prefix: prefix(&wanted),
                    data: ww_fuzz_harness::bitswap::WANTED.to_vec(),
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

/// The seeds of the targets that need the core: vat frames and logins.
fn core_seeds(write: &dyn Fn(&str, &str, &[u8])) {
    for (name, session) in [
        ("graft", Session::Graft),
        ("epoch", Session::Epoch),
        ("sign", Session::Sign),
        ("export", Session::Export),
    ] {
        let base = match session {
            Session::Export => frames::CALL_EXPORT,
            _ => 0,
        };
        let bytes = record(session, base);
        for (variant, control) in [
            ("64", 2),
            ("1k", 6),
            ("revoked", frames::ADVANCE_EPOCH | 6),
            ("tight", frames::TIGHT_LIMITS | 2),
        ] {
            let mut input = vec![base | control];
            input.extend_from_slice(&bytes);
            write("vat_frames", &format!("{name}-{variant}"), &input);
        }
    }

    let key = ww_fuzz_harness::node_key().verifying_key();
    for (name, flags) in [
        ("real", login::SIGN_REAL),
        ("stale", login::SIGN_STALE),
        ("replay", login::SIGN_REPLAY | login::TWICE),
        ("advance", login::SIGN_REAL | login::ADVANCE),
        ("no-signer", login::NO_SIGNER),
        ("twice", login::SIGN_REAL | login::TWICE),
        ("input", login::SIGN_INPUT | login::KEY_INPUT),
        ("key-input", login::SIGN_REAL | login::KEY_INPUT),
    ] {
        let input = login::input(flags, &[0x5a; 64], key.as_bytes());
        write("terminal_login", name, &input);
    }
    write(
        "terminal_login",
        "short",
        &login::input(login::KEY_INPUT, &[1; 10], &[2; 31]),
    );
    for (name, flags) in [
        ("raw-real", login::SIGN_REAL),
        ("raw-twice", login::SIGN_REAL | login::TWICE),
        ("raw-no-signer", login::NO_SIGNER),
    ] {
        let bytes = login::record(flags);
        for chunk in [2u8, 6] {
            let mut input = vec![login::RAW | chunk];
            input.extend_from_slice(&bytes);
            write("terminal_login", &format!("{name}-{chunk}"), &input);
        }
    }
}

/// The sessions a seed records.
#[derive(Clone, Copy)]
enum Session {
    /// Bootstrap and graft.
    Graft,
    /// Bootstrap and ask the epoch.
    Epoch,
    /// Graft, then call `identity` and the `Signer` it returns (pipelined),
    /// then drop them.
    Sign,
    /// Export a membrane of the cell's own, which the host calls.
    Export,
}

/// What a real client vat writes to the host during `session`, the host
/// run with `control`.
fn record(session: Session, control: u8) -> Vec<u8> {
    let copy = Rc::new(RefCell::new(Vec::new()));
    let recorded = copy.clone();
    let ended = run_local(4096, move || async move {
        let (host_end, cell) = tokio::io::duplex(64 * 1024);
        let budget = CellBudget::new("seed", RpcLimits::default());
        let served = tokio::task::spawn_local(frames::host(host_end, control, budget));
        let (read, write) = tokio::io::split(cell);
        let network = twoparty::VatNetwork::new(
            read.compat(),
            Recording {
                inner: write.compat_write(),
                copy: recorded,
            },
            Side::Client,
            capnp::message::ReaderOptions::new(),
        );
        let export = matches!(session, Session::Export).then(|| {
            let own = CellBudget::new("seed's own", RpcLimits::default());
            MembraneServer::new(exports(), Rc::new(Epochs::new()), own)
                .into_client()
                .client
        });
        let mut rpc = RpcSystem::new(Box::new(network), export);
        let membrane: membrane::Client = rpc.bootstrap(Side::Server);
        let disconnector = rpc.get_disconnector();
        tokio::task::spawn_local(rpc);
        match session {
            Session::Epoch => {
                membrane
                    .epoch_request()
                    .send()
                    .promise
                    .await
                    .expect("epoch");
            }
            Session::Export => {
                membrane
                    .epoch_request()
                    .send()
                    .promise
                    .await
                    .expect("epoch");
                // The host's call on the export arrives and is answered.
                ww_fuzz_harness::idle(64).await;
            }
            Session::Graft => {
                let reply = membrane
                    .graft_request()
                    .send()
                    .promise
                    .await
                    .expect("graft");
                reply.get().unwrap().get_caps().unwrap();
            }
            Session::Sign => {
                let reply = membrane
                    .graft_request()
                    .send()
                    .promise
                    .await
                    .expect("graft");
                let caps = reply.get().unwrap().get_caps().unwrap();
                let identity = identity::Client {
                    client: caps
                        .get(0)
                        .get_cap()
                        .get_as_capability()
                        .expect("a capability"),
                };
                identity
                    .public_key_request()
                    .send()
                    .promise
                    .await
                    .expect("key");
                let mut request = identity.signer_request();
                request.get().set_domain("ww/terminal");
                let signer: signer::Client = request.send().pipeline.get_signer();
                let mut request = signer.sign_request();
                request.get().set_nonce(&[9; 32]);
                request.get().set_epoch_seq(1);
                request.send().promise.await.expect("sign");
                signer
                    .public_key_request()
                    .send()
                    .promise
                    .await
                    .expect("key");
            }
        }
        drop(membrane);
        ww_fuzz_harness::idle(16).await;
        let _ = disconnector.await;
        let _ = served.await;
    });
    assert!(ended, "the recorded session did not end");
    copy.take()
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
