//! The libp2p host across two real `ww` processes on 127.0.0.1: each runs
//! the `host-cmd` guest, which the test steers line by line.

use std::time::{Duration, Instant};

use ww_tests::*;

/// One `ww` node running `host-cmd`, listening on free loopback ports.
struct Node {
    run: Running,
    _image: tempfile::TempDir,
}

impl Node {
    fn start() -> Node {
        let image = image("host-cmd");
        let mut run = Running::start(
            ww_run(&ww())
                .args(["--listen", "/ip4/127.0.0.1/tcp/0"])
                .args(["--listen", "/ip4/127.0.0.1/udp/0/quic-v1"])
                .arg(image.path()),
        );
        run.wait_for(Stream::Stdout, "ready");
        Node { run, _image: image }
    }

    /// Sends `command` and returns its answer (the text after `name: `).
    fn ask(&mut self, command: &str) -> String {
        let name = command.split(' ').next().unwrap_or(command);
        self.run.send_line(command);
        let prefix = format!("{name}: ");
        let line = self.run.wait_for(Stream::Stdout, &prefix);
        line.strip_prefix(&prefix).unwrap_or(&line).to_string()
    }

    fn id(&mut self) -> String {
        let id = self.ask("id");
        assert!(id.starts_with("12D3KooW"), "an Ed25519 PeerId: {id}");
        id
    }

    /// The listen address over `transport` ("tcp" or "quic-v1").
    fn addr(&mut self, transport: &str) -> String {
        let addrs = self.ask("addrs");
        addrs
            .split(' ')
            .find(|a| a.contains(&format!("/{transport}")))
            .unwrap_or_else(|| panic!("no {transport} address in {addrs:?}"))
            .to_string()
    }

    fn peers(&mut self) -> Vec<String> {
        self.ask("peers")
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Asks for peers until `peer` is one (the other side of a new
    /// connection may see it a moment later), failing after [`STEP`].
    fn wait_for_peer(&mut self, peer: &str) {
        let deadline = Instant::now() + STEP;
        loop {
            let peers = self.peers();
            if peers.iter().any(|p| p == peer) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{peer} never became a peer; peers: {peers:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Quits the guest and checks the node exits cleanly.
    fn stop(mut self) {
        self.run.send_line("quit");
        let (status, _, stderr) = self.run.finish();
        let stderr = stderr.join("\n");
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert_no_panic(&stderr);
    }
}

fn connects_and_lists_each_other(transport: &str) {
    let mut a = Node::start();
    let mut b = Node::start();
    let (a_id, b_id) = (a.id(), b.id());
    assert_ne!(a_id, b_id, "each node has its own key");
    assert!(a.peers().is_empty() && b.peers().is_empty());

    let addr = a.addr(transport);
    assert!(addr.starts_with("/ip4/127.0.0.1/"), "{addr}");
    assert!(addr.ends_with(&format!("/p2p/{a_id}")), "{addr}");
    assert_eq!(b.ask(&format!("connect {addr}")), "ok");
    assert_eq!(b.peers(), vec![a_id.clone()], "B lists A at once");
    a.wait_for_peer(&b_id);
    // Connecting again to a connected peer is not an error.
    assert_eq!(b.ask(&format!("connect {addr}")), "ok");
    a.stop();
    b.stop();
}

#[test]
fn node_b_connects_to_node_a_over_tcp_and_each_lists_the_other() {
    connects_and_lists_each_other("tcp");
}

#[test]
fn node_b_connects_to_node_a_over_quic_and_each_lists_the_other() {
    connects_and_lists_each_other("quic-v1");
}

/// A valid PeerId of a key no node in these tests holds.
const OTHER_PEER: &str = "12D3KooWHSNzdXUUPH3XhffyLKw1BjZFQMnCU2Unjbf61P8Ujhof";

/// A loopback TCP port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn bad_addresses_and_unreachable_peers_give_clear_errors_and_both_nodes_stay_up() {
    let mut a = Node::start();
    let mut b = Node::start();
    let a_id = a.id();
    let b_id = b.id();

    let err = b.ask("connect not-a-multiaddr");
    assert!(
        err.starts_with("error") && err.contains("is not a multiaddr"),
        "{err}"
    );
    let err = b.ask("connect /ip4/127.0.0.1/tcp/2025");
    assert!(
        err.contains("names no peer") && err.contains("/p2p/"),
        "{err}"
    );
    let err = b.ask(&format!(
        "connect /ip4/127.0.0.1/tcp/{}/p2p/{a_id}",
        closed_port()
    ));
    assert!(err.contains("cannot connect to"), "{err}");
    assert!(
        err.to_lowercase().contains("refused"),
        "the OS's reason: {err}"
    );
    let own = b.addr("tcp");
    let err = b.ask(&format!("connect {own}"));
    assert!(err.contains("is this node itself"), "{err}");
    // A's address, expecting another peer: the handshake proves it is not.
    let wrong = a.addr("tcp").replace(&a_id, OTHER_PEER);
    let err = b.ask(&format!("connect {wrong}"));
    assert!(
        err.contains("cannot connect") && err.contains("different peer"),
        "{err}"
    );
    assert!(b.peers().is_empty(), "no failed attempt left a peer behind");

    // Both nodes still serve: B connects to A for real.
    let addr = a.addr("tcp");
    assert_eq!(b.ask(&format!("connect {addr}")), "ok");
    a.wait_for_peer(&b_id);
    a.stop();
    b.stop();
}

#[test]
fn the_host_provider_loads_as_a_library_into_a_minimal_ww() {
    let image = image("host-cmd");
    let mut node = Running::start(
        ww_run(&ww_minimal())
            .arg("--provider")
            .arg(plugin("ww_host"))
            .arg(image.path()),
    );
    node.wait_for(Stream::Stdout, "ready");
    node.send_line("id");
    let id = node.wait_for(Stream::Stdout, "id: ");
    assert!(id.starts_with("id: 12D3KooW"), "{id}");
    node.send_line("addrs");
    let addrs = node.wait_for(Stream::Stdout, "addrs: ");
    assert!(addrs.contains("/ip4/127.0.0.1/tcp/"), "{addrs}");
    node.send_line("quit");
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
}

/// A `net` cell serving on a protocol, on its own node.
struct Server {
    run: Running,
    addr: String,
    _image: tempfile::TempDir,
}

impl Server {
    /// `mode` is `listen` (echo streams) or `serve-vat` (a Counter).
    fn start(mode: &str, protocol: &str, extra: &[&str]) -> Server {
        let image = image("net");
        let mut run = Running::start(
            ww_run(&ww())
                .args(extra)
                .arg(image.path())
                .args(["--", mode, protocol]),
        );
        let addr = loop {
            let line = run.wait_for(Stream::Stdout, "addr: ");
            if line.contains("/tcp/") {
                break line["addr: ".len()..].to_string();
            }
        };
        run.wait_for(Stream::Stdout, "serving");
        Server {
            run,
            addr,
            _image: image,
        }
    }

    /// Stops the node and checks it never panicked.
    fn stop(self) {
        kill(self.run.pid(), libc::SIGKILL);
        let (_, _, stderr) = self.run.finish();
        assert_no_panic(&stderr.join("\n"));
    }
}

/// Runs `net ARGS` on a fresh node to completion.
fn net(args: &[&str]) -> std::process::Output {
    let image = image("net");
    output(ww_run(&ww()).arg(image.path()).arg("--").args(args))
}

#[test]
fn a_cell_on_b_exchanges_10_mib_both_ways_with_a_cell_on_a() {
    let a = Server::start("listen", "/ww/test/echo/1.0.0", &[]);
    let out = net(&["dial", &a.addr, "/ww/test/echo/1.0.0", "10485760"]);
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("dial: ok 10485760 bytes both ways"),
        "{stdout}"
    );
    eprintln!("{stdout}");
    a.stop();
}

#[test]
fn a_counter_served_on_a_is_called_1000_times_from_b() {
    let a = Server::start("serve-vat", "counter", &[]);
    let out = net(&["call-vat", &a.addr, "counter", "1000"]);
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("vat: 1000 calls, last=1000"), "{stdout}");
    eprintln!("{stdout}");
    a.stop();
}

#[test]
fn streams_beyond_the_per_peer_limit_are_refused_and_the_node_still_serves() {
    let a = Server::start("listen", "echo", &["--config", "stream_limit_per_peer=3"]);
    let out = net(&["hold", &a.addr, "echo", "5"]);
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("hold: accepted 3 refused 2"), "{stdout}");
    assert!(
        stdout.contains("per-peer limit"),
        "the refusal says why: {stdout}"
    );
    assert!(
        stdout.contains("after: ok"),
        "within the limit again: {stdout}"
    );
    a.stop();
}

#[test]
fn vats_beyond_their_own_per_peer_limit_are_refused_apart_from_streams() {
    // Streams may be plenty; vats have their own, lower bound.
    let a = Server::start(
        "serve-vat",
        "counter",
        &[
            "--config",
            "stream_limit_per_peer=50",
            "--config",
            "vat_limit_per_peer=2",
        ],
    );
    let out = net(&["hold-vat", &a.addr, "counter", "4"]);
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("hold-vat: accepted 2 refused 2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 open vats") && stdout.contains("per-peer limit"),
        "the refusal names vats and the limit: {stdout}"
    );
    a.stop();
}

/// Dials `protocol` on `server` with `mode` (`dial` or `call-vat`) until the
/// remote no longer serves it, failing after [`STEP`].
fn wait_until_not_served(server: &Server, mode: &str, protocol: &str) -> String {
    let deadline = Instant::now() + STEP;
    let count = if mode == "dial" { "16" } else { "1" };
    loop {
        let out = net(&[mode, &server.addr, protocol, count]);
        let stderr = text(&out.stderr);
        if out.status.code() == Some(1) && stderr.contains("does not serve") {
            return stderr;
        }
        assert!(
            Instant::now() < deadline,
            "{protocol} is still served after its epoch ended: {stderr}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn listeners_stop_when_their_epoch_ends() {
    for (mode, client, protocol) in [
        ("listen", "dial", "/ww/test/epoch-echo"),
        ("serve-vat", "call-vat", "/ww/test/epoch-vat"),
    ] {
        let mut a = Server::start(mode, protocol, &["--revoke-on-hup"]);
        let count = if client == "dial" { "16" } else { "1" };
        assert_exit(&net(&[client, &a.addr, protocol, count]), 0);
        kill(a.run.pid(), libc::SIGHUP);
        a.run.wait_for(Stream::Stderr, "epoch advanced");
        // The cell still holds its listener; the epoch's end released what
        // it wrapped, so the node stops accepting on the protocol.
        let stderr = wait_until_not_served(&a, client, protocol);
        assert_no_panic(&stderr);
        a.stop();
    }
}

#[test]
fn unknown_protocols_bad_names_and_garbage_on_a_vat_fail_clearly_and_nodes_stay_up() {
    let a = Server::start("serve-vat", "counter", &[]);

    let out = net(&["dial", &a.addr, "/ww/nobody-listens", "10"]);
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("does not serve /ww/nobody-listens"),
        "{stderr}"
    );
    assert_no_panic(&stderr);

    let out = net(&["dial", &a.addr, "/ipfs/kad/1.0.0", "10"]);
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("outside the cells' namespace"),
        "{}",
        text(&out.stderr)
    );

    let out = net(&["garbage", &a.addr, "counter"]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("garbage: sent, stream ended"));

    // A still serves its counter.
    let out = net(&["call-vat", &a.addr, "counter", "10"]);
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("last=10"),
        "{}",
        text(&out.stdout)
    );
    a.stop();
}

#[test]
fn a_key_provided_on_node_1_is_found_from_node_10_of_a_line() {
    // Node i bootstraps from node i-1 only.
    let mut nodes: Vec<Node> = Vec::new();
    for i in 0..10 {
        let image = image("host-cmd");
        let mut cmd = ww_run(&ww());
        cmd.args(["--listen", "/ip4/127.0.0.1/tcp/0"]);
        if i > 0 {
            let prev = nodes[i - 1].addr("tcp");
            cmd.args(["--bootstrap", &prev]);
        }
        let mut run = Running::start(cmd.arg(image.path()));
        run.wait_for(Stream::Stdout, "ready");
        nodes.push(Node { run, _image: image });
    }
    let first = nodes[0].id();
    let key = nodes[0].ask("hash hello from node 1");
    assert!(key.starts_with("bafkrei"), "a CIDv1 raw sha-256: {key}");
    // The last node bootstrapped last: wait until it has joined.
    let last = nodes.len() - 1;
    let deadline = Instant::now() + STEP;
    while nodes[last].peers().is_empty() {
        assert!(Instant::now() < deadline, "node 10 never connected");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(nodes[0].ask(&format!("provide {key}")), "ok");
    let deadline = Instant::now() + STEP;
    loop {
        let found = nodes[last].ask(&format!("find {key}"));
        if found.split(' ').any(|p| p == first) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node 10 never found node 1 as a provider: {found}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // An unknown key finds nobody, and a malformed one says what to do.
    let nobody = nodes[last].ask("hash nobody provides this");
    assert_eq!(nodes[last].ask(&format!("find {nobody}")), "");
    let err = nodes[last].ask("find not-a-cid");
    assert!(err.contains("Routing.hash"), "{err}");
    for node in nodes {
        node.stop();
    }
}

#[test]
fn a_bad_or_busy_listen_address_is_refused_before_the_cell_starts() {
    let image = image("host-cmd");
    let out = output(
        ww_run(&ww())
            .args(["--listen", "/ip4/127.0.0.1/tcp/notaport"])
            .arg(image.path()),
    );
    // The host refuses its `listen` value: the command line must change.
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`listen`") && stderr.contains("is not a multiaddr"),
        "{stderr}"
    );
    assert_no_panic(&stderr);

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let out = output(ww_run(&ww()).args(["--port", &port]).arg(image.path()));
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on /ip4/127.0.0.1/tcp/{port}")),
        "{stderr}"
    );
}

#[test]
fn a_dialed_stream_fails_stale_once_its_epoch_ends() {
    let a = Server::start("listen", "echo", &[]);
    let image = image("net");
    let mut b = Running::start(
        ww_run(&ww())
            .arg("--revoke-on-hup")
            .arg(image.path())
            .args(["--", "stale", &a.addr, "echo"]),
    );
    b.wait_for(Stream::Stdout, "ready");
    kill(b.pid(), libc::SIGHUP);
    b.wait_for(Stream::Stderr, "epoch advanced");
    b.send_line("go");
    assert_eq!(b.wait_for(Stream::Stdout, "stream:"), "stream: stale 2");
    let (status, _, stderr) = b.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
    a.stop();
}

/// 24 MiB of writes sent at once to a stream whose reader holds it unread,
/// past the writer's 16 MiB of calls in flight (the default
/// `--max-call-bytes`): none may fail; the writer's node holds the writer
/// back instead of buffering, and everything arrives once the reader reads.
fn writes_wait_for_a_reader_that_does_not_read(transport: &str) {
    let mut b = Server::start("sink", "/ww/test/sink/1.0.0", &[]);
    let addr = b
        .run
        .seen_or_wait_for(Stream::Stdout, &format!("/{transport}/"))["addr: ".len()..]
        .to_string();
    let image = image("net");
    let mut a = Running::start(ww_run(&ww()).arg(image.path()).args([
        "--",
        "flood",
        &addr,
        "/ww/test/sink/1.0.0",
        "24",
    ]));
    a.wait_for(Stream::Stdout, "flood: sent 24");
    let warning = a.wait_for(Stream::Stderr, "bytes of calls in flight");
    assert!(warning.contains("--max-call-bytes"), "{warning}");
    let peak = proc_status_kib(a.pid(), "VmHWM");
    assert!(
        peak < 400 << 10,
        "the writer's node peaked at {peak} KiB while its writes waited"
    );
    b.run.send_line("read now");
    let (status, stdout, stderr) = a.finish();
    assert_no_panic(&stderr.join("\n"));
    assert!(
        stdout.iter().any(|l| l == "flood: 24 of 24 written"),
        "{stdout:?}\n{stderr:?}"
    );
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
    assert_eq!(
        b.run.wait_for(Stream::Stdout, "sink: read"),
        format!("sink: read {} bytes", 24 << 20)
    );
    b.stop();
}

#[test]
fn writes_to_a_tcp_stream_its_reader_does_not_read_wait_and_then_all_arrive() {
    writes_wait_for_a_reader_that_does_not_read("tcp");
}

#[test]
fn writes_to_a_quic_stream_its_reader_does_not_read_wait_and_then_all_arrive() {
    writes_wait_for_a_reader_that_does_not_read("quic-v1");
}
