//! `ww run --stem`: epochs follow an Atom contract on a real chain (anvil
//! on 127.0.0.1, started and killed by the test).

use ww_tests::anvil::Anvil;
use ww_tests::*;

/// Blocks on top of an update before the node adopts it.
const DEPTH: u64 = 2;

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

/// An image tree (no kernel: the overlay brings it) with `files`.
fn head_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, body) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    dir
}

/// `ww push DIR` into `data`; returns the CID.
fn push(dir: &std::path::Path, data: &std::path::Path) -> String {
    let mut cmd = std::process::Command::new(ww());
    cmd.arg("push").arg(dir).env("WW_DATA_DIR", data);
    let out = output(&mut cmd);
    assert_exit(&out, 0);
    text(&out.stdout).trim().to_string()
}

/// `ww push DIR --stem ATOM`: setHead to the tree's CID, pushed into a
/// store of its own (so the node's store gets it only from [`push`]).
fn publish(anvil: &Anvil, atom: &str, dir: &std::path::Path, state: &std::path::Path) -> String {
    let key = state.join("owner.key");
    std::fs::write(&key, ww_tests::anvil::ACCOUNT_KEY).unwrap();
    let mut cmd = std::process::Command::new(ww());
    cmd.arg("push")
        .arg(dir)
        .arg("--stem")
        .arg(atom)
        .arg("--rpc-url")
        .arg(anvil.http_url())
        .arg("--private-key-file")
        .arg(&key)
        .env("WW_DATA_DIR", state.join("publisher"));
    let out = output(&mut cmd);
    assert_exit(&out, 0);
    text(&out.stdout).trim().to_string()
}

/// Sends a command to the `stem` guest and returns its answer line.
fn ask(node: &mut Running, command: &str, answer: &str) -> String {
    node.send_line(command);
    node.wait_for(Stream::Stdout, answer)
}

/// Lines of `stderr` that say the node moved to a head.
fn moves(stderr: &[String]) -> Vec<String> {
    stderr
        .iter()
        .filter(|l| l.contains("stem: moved to the adopted head"))
        .map(|l| plain(l))
        .collect()
}

#[test]
fn two_finalized_heads_advance_the_epoch_twice_in_order_and_swap_the_base_layer() {
    let anvil = Anvil::start();
    let atom = anvil.deploy_atom();
    let state = tempfile::tempdir().unwrap();
    let data = state.path().join("data");
    let a = head_tree(&[
        ("etc/motd", "A"),
        ("etc/shadowed", "A"),
        ("bin/only-a", "a"),
    ]);
    let b = head_tree(&[("etc/motd", "B"), ("etc/shadowed", "B")]);
    let c = head_tree(&[
        ("etc/motd", "C"),
        ("etc/shadowed", "C"),
        ("bin/only-c", "c"),
    ]);
    for tree in [&a, &b, &c] {
        push(tree.path(), &data);
    }
    // The node boots on A, finalized before it starts.
    publish(&anvil, &atom, a.path(), state.path());
    anvil.mine(DEPTH);
    let overlay = image("stem");
    std::fs::create_dir_all(overlay.path().join("etc")).unwrap();
    std::fs::write(overlay.path().join("etc/shadowed"), "overlay").unwrap();
    let mut node = Running::start(ww_stem(&anvil, &atom, state.path()).arg(overlay.path()));
    assert_eq!(node.wait_for(Stream::Stdout, "ready"), "ready epoch=1");
    assert_eq!(
        ask(&mut node, "cat /etc/motd", "cat /etc/motd:"),
        "cat /etc/motd: A"
    );
    assert_eq!(
        ask(&mut node, "cat /etc/shadowed", "cat /etc/shadowed:"),
        "cat /etc/shadowed: overlay"
    );

    let b_cid = publish(&anvil, &atom, b.path(), state.path());
    let c_cid = publish(&anvil, &atom, c.path(), state.path());
    anvil.mine(DEPTH);
    let one = plain(&node.wait_for(Stream::Stderr, "stem: moved to the adopted head"));
    assert!(
        one.contains("epoch=2") && one.contains("stem_seq=2") && one.contains(&b_cid),
        "{one}"
    );
    let two = plain(&node.wait_for(Stream::Stderr, "stem: moved to the adopted head"));
    assert!(
        two.contains("epoch=3") && two.contains("stem_seq=3") && two.contains(&c_cid),
        "{two}"
    );

    // pid0 reads the new base through its own root; the overlay stays on top.
    assert_eq!(
        ask(&mut node, "cat /etc/motd", "cat /etc/motd:"),
        "cat /etc/motd: C"
    );
    assert_eq!(
        ask(&mut node, "cat /etc/shadowed", "cat /etc/shadowed:"),
        "cat /etc/shadowed: overlay"
    );
    assert_eq!(
        ask(&mut node, "cat /bin/only-a", "cat /bin/only-a:"),
        "cat /bin/only-a: missing"
    );
    assert_eq!(
        ask(&mut node, "cat /bin/only-c", "cat /bin/only-c:"),
        "cat /bin/only-c: c"
    );
    // Capabilities of epoch 1 are revoked; grafting again gives working ones,
    // and a child spawned with them sees the new base too.
    assert_eq!(ask(&mut node, "check", "check:"), "check: stale 3");
    assert_eq!(
        ask(&mut node, "child /etc/motd", "child:"),
        "child: stale 3"
    );
    assert_eq!(ask(&mut node, "regraft", "regraft:"), "regraft: ok epoch=3");
    assert_eq!(
        ask(&mut node, "child /etc/motd", "child:"),
        "child: /etc/motd: C"
    );

    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
    assert_eq!(moves(&stderr).len(), 2, "{}", stderr.join("\n"));
    assert_no_panic(&stderr.join("\n"));
}

#[test]
fn a_restart_resumes_from_the_cursor_without_replay_or_skip() {
    let anvil = Anvil::start();
    let atom = anvil.deploy_atom();
    let state = tempfile::tempdir().unwrap();
    let data = state.path().join("data");
    let a = head_tree(&[("etc/motd", "A")]);
    let b = head_tree(&[("etc/motd", "B")]);
    push(a.path(), &data);
    push(b.path(), &data);
    let overlay = image("stem");

    let mut node = Running::start(ww_stem(&anvil, &atom, state.path()).arg(overlay.path()));
    assert_eq!(node.wait_for(Stream::Stdout, "ready"), "ready epoch=0");
    publish(&anvil, &atom, a.path(), state.path());
    anvil.mine(DEPTH);
    let moved = plain(&node.wait_for(Stream::Stderr, "stem: moved to the adopted head"));
    assert!(moved.contains("stem_seq=1"), "{moved}");
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));

    // B is finalized while the node is down.
    publish(&anvil, &atom, b.path(), state.path());
    anvil.mine(DEPTH);
    let mut node = Running::start(ww_stem(&anvil, &atom, state.path()).arg(overlay.path()));
    let following = plain(&node.wait_for(Stream::Stderr, "stem: following"));
    assert!(
        following.contains("seq=1"),
        "resumes from the cursor: {following}"
    );
    let moved = plain(&node.wait_for(Stream::Stderr, "stem: moved to the adopted head"));
    assert!(
        moved.contains("epoch=2") && moved.contains("stem_seq=2"),
        "{moved}"
    );
    // The cell may have started before the move (and said so while we
    // waited for the node's lines) or after it.
    node.seen_or_wait_for(Stream::Stdout, "ready");
    assert_eq!(
        ask(&mut node, "cat /etc/motd", "cat /etc/motd:"),
        "cat /etc/motd: B"
    );
    assert_eq!(ask(&mut node, "regraft", "regraft:"), "regraft: ok epoch=2");
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
    // Head 1 is not adopted again.
    assert_eq!(moves(&stderr).len(), 1, "{}", stderr.join("\n"));
}

#[test]
fn a_head_that_is_not_a_cid_is_refused_and_the_node_keeps_its_epoch() {
    let anvil = Anvil::start();
    let atom = anvil.deploy_atom();
    let state = tempfile::tempdir().unwrap();
    let a = head_tree(&[("etc/motd", "A")]);
    push(a.path(), &state.path().join("data"));
    let overlay = image("stem");
    let mut node = Running::start(ww_stem(&anvil, &atom, state.path()).arg(overlay.path()));
    assert_eq!(node.wait_for(Stream::Stdout, "ready"), "ready epoch=0");

    anvil.set_head(&atom, b"not a cid");
    anvil.mine(DEPTH);
    let refused = plain(&node.wait_for(Stream::Stderr, "is not a CID"));
    assert!(refused.contains("head seq 1 is not a CID"), "{refused}");
    assert_eq!(ask(&mut node, "check", "check:"), "check: ok");
    assert_eq!(
        ask(&mut node, "cat /etc/motd", "cat /etc/motd:"),
        "cat /etc/motd: missing"
    );

    // The next good head is adopted as usual.
    publish(&anvil, &atom, a.path(), state.path());
    anvil.mine(DEPTH);
    let moved = plain(&node.wait_for(Stream::Stderr, "stem: moved to the adopted head"));
    assert!(
        moved.contains("epoch=2") && moved.contains("stem_seq=2"),
        "{moved}"
    );
    assert_eq!(ask(&mut node, "check", "check:"), "check: stale 2");
    assert_eq!(
        ask(&mut node, "cat /etc/motd", "cat /etc/motd:"),
        "cat /etc/motd: A"
    );
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
    assert_eq!(moves(&stderr).len(), 1, "{}", stderr.join("\n"));
    assert_no_panic(&stderr.join("\n"));
}

#[test]
fn a_head_that_cannot_be_fetched_is_retried_until_its_content_arrives() {
    let anvil = Anvil::start();
    let atom = anvil.deploy_atom();
    let state = tempfile::tempdir().unwrap();
    let a = head_tree(&[("etc/motd", "late")]);
    let overlay = image("stem");
    let mut node = Running::start(
        ww_stem(&anvil, &atom, state.path())
            .arg("--config")
            .arg("ipfs-fetch-timeout=0.5")
            .arg(overlay.path()),
    );
    assert_eq!(node.wait_for(Stream::Stdout, "ready"), "ready epoch=0");

    // Only the publisher's store has A: the node cannot fetch it.
    let cid = publish(&anvil, &atom, a.path(), state.path());
    anvil.mine(DEPTH);
    let failed = plain(&node.wait_for(Stream::Stderr, "stem: cannot fetch head seq 1"));
    assert!(
        failed.contains(&cid) && failed.contains("staying on epoch 0"),
        "{failed}"
    );
    assert_eq!(ask(&mut node, "check", "check:"), "check: ok");
    assert_eq!(
        ask(&mut node, "cat /etc/motd", "cat /etc/motd:"),
        "cat /etc/motd: missing"
    );

    // The content reaches the node's store; a retry finds it.
    assert_eq!(push(a.path(), &state.path().join("data")), cid);
    let moved = plain(&node.wait_for(Stream::Stderr, "stem: moved to the adopted head"));
    assert!(moved.contains("epoch=1") && moved.contains(&cid), "{moved}");
    assert_eq!(
        ask(&mut node, "cat /etc/motd", "cat /etc/motd:"),
        "cat /etc/motd: late"
    );
    assert_eq!(ask(&mut node, "check", "check:"), "check: stale 1");
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
    assert_no_panic(&stderr.join("\n"));
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

#[test]
fn the_kernel_finds_commands_of_the_new_base_after_grafting_again() {
    let anvil = Anvil::start();
    let atom = anvil.deploy_atom();
    let state = tempfile::tempdir().unwrap();
    let data = state.path().join("data");
    let a = head_tree(&[("etc/motd", "A")]);
    let b = head_tree(&[("etc/motd", "B")]);
    std::fs::create_dir_all(b.path().join("bin")).unwrap();
    std::fs::copy(guest("hello"), b.path().join("bin/hello.wasm")).unwrap();
    push(a.path(), &data);
    push(b.path(), &data);
    publish(&anvil, &atom, a.path(), state.path());
    anvil.mine(DEPTH);
    // pid0 is the kernel (the overlay); the commands come from the base.
    let overlay = image("kernel");
    let mut node = Running::start(ww_stem(&anvil, &atom, state.path()).arg(overlay.path()));
    node.send_line("(hello)");
    node.send_line("(println \"looked\")");
    node.wait_for(Stream::Stdout, "looked");

    publish(&anvil, &atom, b.path(), state.path());
    anvil.mine(DEPTH);
    node.wait_for(Stream::Stderr, "stem: moved to the adopted head");
    // The first call after the advance fails and the shell grafts again ...
    node.send_line("(hello)");
    node.wait_for(Stream::Stderr, "grafted again (epoch 2)");
    // ... and PATH now has the new base's command.
    node.send_line("(hello)");
    node.wait_for(Stream::Stdout, "hello from a cell");
    let (status, stdout, stderr) = node.finish();
    assert!(status.success(), "{}", stderr.join("\n"));
    let hellos = stdout.iter().filter(|l| l.contains("hello from a cell"));
    assert_eq!(hellos.count(), 1, "{stdout:?}");
}
