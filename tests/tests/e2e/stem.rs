//! `ww run --stem`: epochs follow an Atom contract on a real chain (anvil
//! on 127.0.0.1, started and killed by the test).

use ww_tests::anvil::Anvil;
use ww_tests::*;

/// Blocks on top of an update before the node adopts it.
const DEPTH: u64 = 2;

/// A CIDv1 (raw, identity multihash) holding `data` itself: the ipfs
/// provider holds such a block without fetching it. Returns its binary and
/// text (base32) forms.
fn identity_cid(data: &[u8]) -> (Vec<u8>, String) {
    let mut bytes = vec![0x01, 0x55, 0x00, data.len() as u8];
    bytes.extend_from_slice(data);
    (bytes.clone(), format!("b{}", base32(&bytes)))
}

/// RFC 4648 base32, lower case, no padding (multibase `b`).
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let (mut out, mut buffer, mut bits) = (String::new(), 0u32, 0);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// A log line without its terminal colours.
fn plain(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ … final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `ww run --stem ATOM` against `anvil`, with its own cursor and data
/// directory under `state`.
fn ww_stem(anvil: &Anvil, atom: &str, state: &std::path::Path) -> std::process::Command {
    ww_stem_at(&anvil.http_url(), anvil, atom, state)
}

/// [`ww_stem`] with another `--rpc-url`.
fn ww_stem_at(
    rpc_url: &str,
    anvil: &Anvil,
    atom: &str,
    state: &std::path::Path,
) -> std::process::Command {
    let mut cmd = ww_run(&ww());
    cmd.arg("--stem")
        .arg(atom)
        .arg("--rpc-url")
        .arg(rpc_url)
        .arg("--ws-url")
        .arg(anvil.ws_url())
        .arg("--confirmation-depth")
        .arg(DEPTH.to_string())
        .arg("--stem-cursor")
        .arg(state.join("cursor.json"))
        .env("WW_DATA_DIR", state.join("data"));
    cmd
}

#[test]
fn two_finalized_heads_advance_the_epoch_twice_in_order_and_cells_graft_again() {
    let anvil = Anvil::start();
    let atom = anvil.deploy_atom();
    let state = tempfile::tempdir().unwrap();
    let img = image("epoch");
    let mut node = Running::start(ww_stem(&anvil, &atom, state.path()).arg(img.path()));
    assert_eq!(node.wait_for(Stream::Stdout, "before:"), "before: ok");
    node.wait_for(Stream::Stdout, "ready");

    let (first, first_text) = identity_cid(b"head one");
    let (second, second_text) = identity_cid(b"head two");
    anvil.set_head(&atom, &first);
    anvil.set_head(&atom, &second);
    anvil.mine(DEPTH);
    let one = plain(&node.wait_for(Stream::Stderr, "stem: moved to the adopted head"));
    assert!(
        one.contains("epoch=2") && one.contains("stem_seq=1") && one.contains(&first_text),
        "{one}"
    );
    let two = plain(&node.wait_for(Stream::Stderr, "stem: moved to the adopted head"));
    assert!(
        two.contains("epoch=3") && two.contains("stem_seq=2") && two.contains(&second_text),
        "{two}"
    );

    node.send_line("go");
    assert_eq!(node.wait_for(Stream::Stdout, "top:"), "top: stale 3");
    assert_eq!(
        node.wait_for(Stream::Stdout, "returned:"),
        "returned: stale 3"
    );
    assert_eq!(
        node.wait_for(Stream::Stdout, "regraft:"),
        "regraft: ok epoch=3"
    );
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
    let moves = stderr
        .iter()
        .filter(|l| l.contains("stem: moved to the adopted head"))
        .count();
    assert_eq!(moves, 2, "{}", stderr.join("\n"));
}

#[test]
fn a_stem_that_cannot_be_followed_is_refused_before_boot() {
    let anvil = Anvil::start();
    let state = tempfile::tempdir().unwrap();
    let img = image("hello");

    let nobody = "0x00000000000000000000000000000000000000aa";
    let out = output(ww_stem(&anvil, nobody, state.path()).arg(img.path()));
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("no contract code at"),
        "{}",
        text(&out.stderr)
    );

    let out = output(ww_stem(&anvil, "0x12", state.path()).arg(img.path()));
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("--stem `0x12` is not valid"));

    let atom = anvil.deploy_atom();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = output(ww_stem_at(&refused, &anvil, &atom, state.path()).arg(img.path()));
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("cannot reach the chain at"), "{stderr}");
    assert_no_panic(&stderr);
}

#[test]
fn push_with_a_stem_moves_the_atoms_head_to_the_pushed_image() {
    let anvil = Anvil::start();
    let atom = anvil.deploy_atom();
    let state = tempfile::tempdir().unwrap();
    let img = image("hello");
    let key = state.path().join("owner.key");
    std::fs::write(&key, ww_tests::anvil::ACCOUNT_KEY).unwrap();
    let push = |key: &std::path::Path| {
        let mut cmd = std::process::Command::new(ww());
        cmd.arg("push")
            .arg(img.path())
            .arg("--stem")
            .arg(&atom)
            .arg("--rpc-url")
            .arg(anvil.http_url())
            .arg("--private-key-file")
            .arg(key)
            .env("WW_DATA_DIR", state.path().join("data"));
        output(&mut cmd)
    };
    let out = push(&key);
    assert_exit(&out, 0);
    let cid = text(&out.stdout).trim().to_string();
    assert!(text(&out.stderr).contains(&format!("setHead({cid})")));
    // head() now returns seq 1 and the CID's binary form (which ends with
    // the same multihash the text names; checked by the stem's own tests).
    let head = anvil.rpc(
        "eth_call",
        &format!(r#"[{{"to":"{atom}","data":"0x8f7dcfa3"}},"latest"]"#),
    );
    let head = head.as_str().unwrap();
    assert_eq!(&head[2..66], &format!("{:064x}", 1), "{head}");

    // The same image again is a no-op the Atom refuses, clearly.
    let out = push(&key);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("the head is already this CID"));

    // Another account is not the owner.
    let other = state.path().join("other.key");
    std::fs::write(&other, ww_tests::anvil::OTHER_KEY).unwrap();
    std::fs::write(img.path().join("extra"), b"changed").unwrap();
    let out = push(&other);
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("is not the Atom's owner"), "{stderr}");
    assert_no_panic(&stderr);
}
