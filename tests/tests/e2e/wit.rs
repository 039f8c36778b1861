use ww_tests::*;

#[test]
fn the_same_calls_through_wit_and_the_vat_return_the_same_results() {
    let img = image("wit-doors");
    let out = output(ww_run(&ww()).arg(img.path()));
    let stdout = text(&out.stdout);
    assert_exit(&out, 0);
    for call in [
        "graft.epoch",
        "graft.names",
        "identity.public-key",
        "signer.sign",
        "signer.domain",
        "identity.verify",
        "host.id",
        "executor.echo",
        "routing.hash",
        "unixfs.add",
        "unixfs.cat",
    ] {
        assert!(
            stdout.lines().any(|l| l == format!("same {call}")),
            "{call} not the same through both doors:\n{stdout}"
        );
    }
    assert!(stdout.contains("compared 11"), "{stdout}");
}

#[test]
fn a_revoked_wit_resource_reports_the_typed_stale_epoch_error_and_regraft_works() {
    let img = image("wit-epoch");
    let mut node = Running::start(ww_run(&ww()).arg("--revoke-on-hup").arg(img.path()));
    assert_eq!(
        node.wait_for(Stream::Stdout, "before:"),
        "before: ok epoch=1"
    );
    node.advance_epoch();
    assert_eq!(
        node.wait_for(Stream::Stdout, "top:"),
        "top: stale issued=1 current=2"
    );
    assert_eq!(
        node.wait_for(Stream::Stdout, "returned:"),
        "returned: stale issued=1 current=2"
    );
    assert_eq!(
        node.wait_for(Stream::Stdout, "regraft:"),
        "regraft: ok epoch=2"
    );
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
}

#[test]
fn ww_init_scaffolds_a_project_outside_the_repository_that_builds_and_runs_first_try() {
    // Slow (a cold release build of the SDK for wasm32-wasip2): one test.
    let tmp = tempfile::tempdir().expect("tempdir");
    let ww_in_tmp = |args: &[&str]| {
        let mut cmd = std::process::Command::new(ww());
        cmd.current_dir(tmp.path())
            .args(args)
            // Reused across runs; a clean clone builds it once.
            .env("CARGO_TARGET_DIR", profile_dir().join("e2e-init-target"))
            .env_remove("WW_GUEST_SDK");
        cmd
    };
    // Outside the checkout, ww init must be told where the SDK is.
    let refused = output(&mut ww_in_tmp(&["init", "demo"]));
    assert_exit(&refused, 2);
    assert!(
        text(&refused.stderr).contains("--sdk"),
        "{}",
        text(&refused.stderr)
    );
    assert!(!tmp.path().join("demo").exists(), "nothing is written");
    let checkout = repo_root();
    let out = output(&mut ww_in_tmp(&[
        "init",
        "demo",
        "--sdk",
        checkout.to_str().unwrap(),
    ]));
    assert_exit(&out, 0);
    assert!(tmp.path().join("demo/src/main.rs").is_file());

    // A cold build takes minutes on two cores: a longer bound than STEP.
    let mut build = ww_in_tmp(&["build", "demo"])
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("run ww build");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20 * 60);
    let status = loop {
        if let Some(status) = build.try_wait().expect("wait for ww build") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = build.kill();
            panic!("ww build demo did not finish within 20 minutes");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(status.success(), "ww build demo failed: {status}");
    assert!(tmp.path().join("demo/boot/main.wasm").is_file());

    let mut run = ww_run(&ww());
    run.current_dir(tmp.path()).arg("demo");
    let out = output(&mut run);
    let stdout = text(&out.stdout);
    assert_exit(&out, 0);
    let signature = stdout
        .lines()
        .find_map(|l| l.strip_prefix("signed \"hello\" in epoch 1: "))
        .unwrap_or_else(|| panic!("no signature line:\n{stdout}"));
    assert_eq!(
        signature.len(),
        128,
        "an Ed25519 signature in hex: {signature}"
    );
    assert!(
        signature.chars().all(|c| c.is_ascii_hexdigit()),
        "{signature}"
    );
    assert!(
        stdout.contains("child said: hello from the child\n"),
        "{stdout}"
    );
    assert!(stdout.contains("child exited with 0"), "{stdout}");
}

/// Runs the std/ example `name` as pid0 and returns its stdout.
fn run_example(name: &str) -> String {
    let img = image(&format!("example-{name}"));
    let out = output(ww_run(&ww()).arg(img.path()));
    assert_exit(&out, 0);
    text(&out.stdout)
}

#[test]
fn example_identity_signs_and_the_signature_verifies() {
    let stdout = run_example("identity");
    assert!(stdout.contains("verified: true\n"), "{stdout}");
    let signature = stdout
        .lines()
        .find_map(|l| l.strip_prefix("signature: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(signature.len(), 128, "{signature}");
}

#[test]
fn example_host_reports_its_peer_id_and_addresses() {
    let stdout = run_example("host");
    assert!(
        stdout.lines().any(|l| l.starts_with("peer id: 12D3KooW")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("listening on /ip4/127.0.0.1/")),
        "{stdout}"
    );
    assert!(stdout.contains("peers: 0\n"), "{stdout}");
}

#[test]
fn example_executor_passes_the_child_only_what_it_names() {
    let stdout = run_example("executor");
    let parent = stdout
        .lines()
        .find_map(|l| l.strip_prefix("parent: granted "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        parent.contains("executor") && parent.contains("identity"),
        "{parent}"
    );
    assert!(stdout.contains("child: granted [identity]\n"), "{stdout}");
    // The child's CPU time comes back with its status, as over Cap'n Proto.
    let cpu: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("child exited with 0 after "))
        .and_then(|l| l.strip_suffix(" µs of CPU"))
        .unwrap_or_else(|| panic!("{stdout}"))
        .parse()
        .unwrap();
    assert!(cpu > 0, "a child that ran used some CPU: {stdout}");
}

#[test]
fn example_routing_hashes_and_resolves() {
    let stdout = run_example("routing");
    let cid = stdout
        .lines()
        .find_map(|l| l.strip_prefix("cid: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(cid.starts_with("bafk"), "a CIDv1 with the raw codec: {cid}");
    assert!(stdout.contains(&format!("path: /ipfs/{cid}\n")), "{stdout}");
    // Alone on its network, the node provides the key and finds itself.
    assert!(stdout.contains("provided\n"), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.starts_with("provider: 12D3KooW")),
        "{stdout}"
    );
}

#[test]
fn example_ipfs_adds_with_kubos_cids_and_reads_back() {
    let stdout = run_example("ipfs");
    // `hello world\n` added with Kubo's defaults (the `ipfs_cid` oracle).
    assert!(
        stdout.contains("added QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o\n"),
        "{stdout}"
    );
    assert!(stdout.contains("cat: hello world\n"), "{stdout}");
    assert!(stdout.contains("  dir  etc "), "{stdout}");
    assert!(
        stdout
            .contains("  file hello.txt QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o (12 bytes)"),
        "{stdout}"
    );
}

#[test]
fn example_stream_carries_a_message_between_cells_on_two_nodes_through_wit() {
    let server_image = image("example-stream");
    let mut server = Running::start(
        ww_run(&ww())
            .args(["--listen", "/ip4/127.0.0.1/tcp/0"])
            .arg(server_image.path())
            .args(["--", "serve"]),
    );
    let addr = loop {
        let line = server.wait_for(Stream::Stdout, "addr: ");
        if line.contains("/tcp/") {
            break line["addr: ".len()..].to_string();
        }
    };
    // Regression: the address named the peer twice (`…/p2p/ID/p2p/ID`).
    assert_eq!(addr.matches("/p2p/").count(), 1, "{addr}");
    server.wait_for(Stream::Stdout, "serving /ww/example/upcase/1.0.0");

    let client_image = image("example-stream");
    let out = output(
        ww_run(&ww())
            .args(["--listen", "/ip4/127.0.0.1/tcp/0"])
            .arg(client_image.path())
            .args(["--", "call", &addr, "hello over libp2p"]),
    );
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("answer: HELLO OVER LIBP2P\n"),
        "{}",
        text(&out.stdout)
    );
    // The server saw the client's peer id and the 17 bytes it sent.
    server.wait_for(Stream::Stdout, "sent 17 bytes");

    kill(server.pid(), libc::SIGKILL);
    let (_, _, stderr) = server.finish();
    assert_no_panic(&stderr.join("\n"));
}
