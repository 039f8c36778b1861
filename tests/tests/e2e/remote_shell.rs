//! `ww shell <multiaddr>`: a kernel node in daemon mode on loopback, its
//! shell opened from another `ww` process over libp2p, behind the
//! terminal's challenge–response login.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ww_tests::*;

/// A kernel node with stdin closed (a daemon), and where to reach it.
pub(crate) struct Node {
    run: Running,
    pub(crate) addr: String,
    _image: tempfile::TempDir,
}

impl Node {
    /// Starts `std/kernel` with `extra` flags and waits for its terminal.
    pub(crate) fn start(extra: &[&str]) -> Node {
        Node::start_image(image("kernel"), extra)
    }

    /// Starts `image` (a kernel image) like [`Node::start`].
    pub(crate) fn start_image(image: tempfile::TempDir, extra: &[&str]) -> Node {
        let mut run = Running::start(
            ww_run(&ww())
                .args(extra)
                .arg(image.path())
                .args(["--", "--daemon"]),
        );
        run.close_stdin();
        let line = run.wait_for(Stream::Stderr, "remote shell: ww shell ");
        let addr = line
            .rsplit("ww shell ")
            .next()
            .expect("an address after `ww shell`")
            .trim()
            .to_string();
        assert!(addr.contains("/tcp/") && addr.contains("/p2p/"), "{line}");
        Node {
            run,
            addr,
            _image: image,
        }
    }

    /// The node's process id (to signal it).
    pub(crate) fn pid(&self) -> u32 {
        self.run.pid()
    }

    fn peer_id(&self) -> &str {
        self.addr.rsplit("/p2p/").next().unwrap()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        kill(self.run.pid(), libc::SIGKILL);
    }
}

/// A key made by `ww keygen` in `dir`, and its public key in hex.
pub(crate) fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let out = output(Command::new(ww()).arg("keygen").arg("--output").arg(&path));
    assert_exit(&out, 0);
    (path, text(&out.stdout).trim().to_string())
}

/// `ww shell <addr> --identity <key> [extra…]` with `script` piped in,
/// bounded by [`STEP`].
fn shell(addr: &str, key: &Path, extra: &[&str], script: &str) -> Output {
    output_with_input(
        Command::new(ww())
            .arg("shell")
            .arg(addr)
            .arg("--identity")
            .arg(key)
            .args(extra)
            .env_remove("WW_IDENTITY"),
        script,
    )
}

/// A kernel node whose own shell reads the node's stdin (kept open, not a
/// daemon), logged in to with `key`; with where to reach it.
fn node_reading_stdin(key: &Path, image: &Path) -> (Running, String) {
    let mut node = Running::start(
        ww_run(&ww())
            .args(["--identity", key.to_str().unwrap()])
            .arg(image),
    );
    let line = node.wait_for(Stream::Stderr, "remote shell: ww shell ");
    let addr = line.rsplit("ww shell ").next().unwrap().trim().to_string();
    (node, addr)
}

/// An interactive `ww shell <addr>` logged in with `key`.
fn session(addr: &str, key: &Path) -> Running {
    Running::start(
        Command::new(ww())
            .arg("shell")
            .arg(addr)
            .arg("--identity")
            .arg(key)
            .env_remove("WW_IDENTITY"),
    )
}

#[test]
fn the_node_key_opens_its_shell_and_exit_ends_only_the_session() {
    let keys = tempfile::tempdir().unwrap();
    let (node_key, _) = keygen(keys.path(), "node.key");
    let node = Node::start(&["--identity", node_key.to_str().unwrap()]);

    let out = shell(
        &node.addr,
        &node_key,
        &[],
        "(host id)\n(+ 1\n 2)\n(undefined-thing)\n(def n 7)\n(exit 4)\n(println \"never\")\n",
    );
    assert_exit(&out, 4);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    let lines: Vec<&str> = stdout.lines().collect();
    // `def` shows its value; nothing after `(exit 4)` ran.
    assert_eq!(
        lines,
        [format!("\"{}\"", node.peer_id()), "3".into(), "7".into()]
    );
    assert!(stderr.contains("error: "), "{stderr}");

    // The node is still up, and the session's `def` lives in its kernel.
    let out = shell(&node.addr, &node_key, &[], "(* n 6)\n");
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout).trim(), "42");
}

#[test]
fn the_shell_answers_while_sixty_four_children_of_a_service_spin() {
    let keys = tempfile::tempdir().unwrap();
    let (node_key, _) = keygen(keys.path(), "node.key");
    // A service holding 64 children that compute without end.
    let img = image("kernel");
    let svc = img.path().join("svc/swarm");
    std::fs::create_dir_all(svc.join("boot")).unwrap();
    std::fs::create_dir_all(svc.join("etc")).unwrap();
    std::fs::copy(guest("spawner"), svc.join("boot/main.wasm")).unwrap();
    std::fs::write(svc.join("etc/scenario"), "hold 64").unwrap();
    std::fs::create_dir_all(img.path().join("bin")).unwrap();
    std::fs::copy(guest("spin"), img.path().join("bin/spin.wasm")).unwrap();
    let init = img.path().join("etc/init.d");
    std::fs::create_dir_all(&init).unwrap();
    std::fs::write(init.join("00-grant.glia"), "(grant \"swarm\" executor)\n").unwrap();
    let mut node = Node::start_image(
        img,
        &[
            "--identity",
            node_key.to_str().unwrap(),
            "--config",
            "max-children=128",
        ],
    );
    node.run.wait_for(Stream::Stdout, "holding 64 spinners");

    // Each evaluation waits behind at most a time slice per hop, not behind
    // every spinner: twenty of them (and the login) fit in the bounded wait
    // of one step, where turns by cell took seconds each.
    let out = shell(&node.addr, &node_key, &[], &"(+ 1 2)\n".repeat(20));
    assert_exit(&out, 0);
    assert_no_panic(&text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().collect::<Vec<_>>(), ["3"; 20]);
}

#[test]
fn an_allowed_key_logs_in_and_any_other_is_refused() {
    let keys = tempfile::tempdir().unwrap();
    let (node_key, _) = keygen(keys.path(), "node.key");
    let (allowed, allowed_hex) = keygen(keys.path(), "allowed.key");
    let (stranger, stranger_hex) = keygen(keys.path(), "stranger.key");
    let node = Node::start(&[
        "--identity",
        node_key.to_str().unwrap(),
        "--allow-key",
        &allowed_hex,
    ]);

    let out = shell(&node.addr, &allowed, &[], "(host id)\n");
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout).trim(), format!("\"{}\"", node.peer_id()));

    let out = shell(&node.addr, &stranger, &[], "(host id)\n");
    assert_ne!(out.status.code(), Some(0), "a stranger's login must fail");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert!(stderr.contains("login refused"), "{stderr}");
    assert!(stderr.contains(&stranger_hex), "names the key: {stderr}");
    assert!(stderr.contains("--allow-key"), "says what to do: {stderr}");
}

#[test]
fn an_unreachable_node_fails_with_its_address() {
    let keys = tempfile::tempdir().unwrap();
    let (key, _) = keygen(keys.path(), "me.key");
    // A free port nobody listens on: the connection is refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let peer = "12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5puiMFJMZm9pLkHFpGN";
    let addr = format!("/ip4/127.0.0.1/tcp/{port}/p2p/{peer}");
    let out = shell(&addr, &key, &[], "(host id)\n");
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    // Only the error: this side's own host has nothing to say.
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot connect to {addr}")),
        "{stderr}"
    );

    // A port that accepts TCP but never speaks libp2p: the bounded wait ends.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!(
        "/ip4/127.0.0.1/tcp/{}/p2p/{peer}",
        silent.local_addr().unwrap().port()
    );
    let out = shell(&addr, &key, &["--timeout", "1"], "(host id)\n");
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&addr), "names the address: {stderr}");
    assert!(
        stderr.to_lowercase().contains("timeout")
            || stderr.contains("timed out")
            || stderr.contains("took longer"),
        "{stderr}"
    );

    // No /p2p/: the node cannot be authenticated, and the error says so.
    let out = shell(&format!("/ip4/127.0.0.1/tcp/{port}"), &key, &[], "");
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("/p2p/"), "{}", text(&out.stderr));
}

#[test]
fn after_the_epoch_ends_the_session_grafts_again_and_goes_on() {
    let keys = tempfile::tempdir().unwrap();
    let (key, _) = keygen(keys.path(), "node.key");
    let mut node = Node::start(&["--identity", key.to_str().unwrap(), "--revoke-on-hup"]);
    let id = format!("\"{}\"", node.peer_id());
    let mut session = Running::start(
        Command::new(ww())
            .arg("shell")
            .arg(&node.addr)
            .arg("--identity")
            .arg(&key)
            .env_remove("WW_IDENTITY"),
    );
    session.send_line("(host id)");
    session.wait_for(Stream::Stdout, &id);

    kill(node.run.pid(), libc::SIGHUP);
    node.run.wait_for(Stream::Stderr, "epoch advanced");
    // The session's shell is of the old epoch: one command fails, naming
    // the stale epoch, and the session grafts again.
    session.send_line("(+ 1 2)");
    session.wait_for(Stream::Stderr, "grafted the session again");
    session.send_line("(+ 2 3)");
    session.wait_for(Stream::Stdout, "5");
    // The kernel re-grafts its own capabilities when they fail (at most
    // one more failed command): (host id) works again.
    session.send_line("(host id)");
    session.send_line("(host id)");
    let (status, stdout, stderr) = session.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
    assert_eq!(stdout.last(), Some(&id), "{}", stdout.join("\n"));
    assert!(
        stderr.iter().any(|l| l.contains("staleEpoch")),
        "{}",
        stderr.join("\n")
    );
}

/// Regression: two sessions evaluating at once each got part of the
/// other's output (the kernel captured one evaluation's prints at a time).
#[test]
fn two_sessions_at_once_each_get_their_own_output() {
    let keys = tempfile::tempdir().unwrap();
    let (key, _) = keygen(keys.path(), "node.key");
    let node = Node::start(&["--identity", key.to_str().unwrap()]);
    // Both sessions logged in (each has answered once) before either sends
    // its command, so B's arrives while A's runs.
    let session = |name: &str| {
        let mut run = Running::start(
            Command::new(ww())
                .arg("shell")
                .arg(&node.addr)
                .arg("--identity")
                .arg(&key)
                .env_remove("WW_IDENTITY"),
        );
        run.send_line(&format!("\"{name} in\""));
        run.wait_for(Stream::Stdout, &format!("{name} in"));
        run
    };
    let mut a = session("a");
    let mut b = session("b");
    // A prints, computes for about a second, prints again; B prints
    // meanwhile.
    a.send_line(
        "(do (println \"a-start\") (loop [i 0] (if (< i 1000000) (recur (+ i 1)) i)) (println \"a-end\"))",
    );
    // A short computation first: if A's had not begun when it arrived, it
    // has by its end.
    b.send_line("(loop [i 0] (if (< i 20000) (recur (+ i 1)) i))");
    b.send_line("(println \"b-only\")");
    let (status, b_out, b_err) = b.finish();
    assert_eq!(status.code(), Some(0), "{}", b_err.join("\n"));
    let (status, a_out, a_err) = a.finish();
    assert_eq!(status.code(), Some(0), "{}", a_err.join("\n"));
    assert_eq!(a_out, ["\"a in\"", "a-start", "a-end"]);
    assert_eq!(b_out, ["\"b in\"", "20000", "b-only"]);
}

#[test]
fn a_node_whose_pid0_serves_no_shell_is_named_within_the_bound() {
    let keys = tempfile::tempdir().unwrap();
    let (key, _) = keygen(keys.path(), "node.key");
    // host-cmd waits on its stdin (kept open) and never answers a Shell
    // call.
    let image = image("host-cmd");
    let mut run = Running::start(
        ww_run(&ww())
            .args(["--identity", key.to_str().unwrap()])
            .arg(image.path()),
    );
    let line = run.wait_for(Stream::Stderr, "remote shell: ww shell ");
    let addr = line.rsplit("ww shell ").next().unwrap().trim().to_string();
    let out = shell(&addr, &key, &["--timeout", "1"], "(host id)\n");
    kill(run.pid(), libc::SIGKILL);
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert!(stderr.contains("did not answer within 1s"), "{stderr}");
    assert!(stderr.contains("run std/kernel there"), "{stderr}");
}

/// Regression: what the node's own stdin shell printed while a remote
/// evaluation ran went to the remote session instead of the node's stdout.
#[test]
fn the_nodes_stdin_shell_and_a_remote_session_keep_their_output_apart() {
    let keys = tempfile::tempdir().unwrap();
    let (key, _) = keygen(keys.path(), "node.key");
    let image = image("kernel");
    let (mut node, addr) = node_reading_stdin(&key, image.path());
    let mut remote = session(&addr, &key);
    remote.send_line("\"r in\"");
    remote.wait_for(Stream::Stdout, "r in");

    remote.send_line(
        "(do (println \"r-start\") (loop [i 0] (if (< i 1000000) (recur (+ i 1)) i)) (println \"r-end\"))",
    );
    // A short computation first: the remote evaluation has begun by its end.
    node.send_line("(loop [i 0] (if (< i 20000) (recur (+ i 1)) i))");
    node.send_line("(println \"from-pipe\")");
    let (status, r_out, r_err) = remote.finish();
    assert_eq!(status.code(), Some(0), "{}", r_err.join("\n"));
    assert_eq!(r_out, ["\"r in\"", "r-start", "r-end"]);
    node.wait_for(Stream::Stdout, "from-pipe");
    node.send_line("(exit 0)");
    let (status, n_out, n_err) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", n_err.join("\n"));
    assert!(n_out.iter().any(|l| l == "20000"), "{n_out:?}");
    assert!(!n_out.iter().any(|l| l.starts_with("r-")), "{n_out:?}");
}

/// A remote session killed in the middle of an endless evaluation: the
/// kernel cancels that evaluation, so it no longer holds the turn, and
/// what the node's own shell prints goes to the node's stdout again (not
/// into the dead session's capture).
#[test]
fn a_session_that_goes_away_mid_evaluation_gives_up_the_turn() {
    let keys = tempfile::tempdir().unwrap();
    let (key, _) = keygen(keys.path(), "node.key");
    let image = image("kernel");
    let (mut node, addr) = node_reading_stdin(&key, image.path());
    let mut remote = session(&addr, &key);
    // It knocks on the test's listener once it holds the turn.
    let knock = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    remote.send_line(&format!(
        "(do (println \"r-start\") (try (host connect \"{}\") (catch e nil)) \
         (loop [i 0] (recur (+ i 1))))",
        knock_addr(&knock)
    ));
    accept_within(&knock);
    kill(remote.pid(), libc::SIGKILL);
    let _ = remote.finish();

    node.send_line("(println \"from-pipe\")");
    node.wait_for(Stream::Stdout, "from-pipe");
    node.send_line("(exit 0)");
    let (status, n_out, n_err) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", n_err.join("\n"));
    assert!(!n_out.iter().any(|l| l.starts_with("r-")), "{n_out:?}");
}
