//! A node that is not root: the jail makes its namespaces inside a user
//! namespace, with a relay process, and still denies the same things.
//! Each test runs the probe as a small node under uid `nobody`.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::Command;

use crate::util::probe;

/// `ww-jail-probe jail-run ARGS` as uid and gid `nobody`: its output.
fn as_nobody(args: &[&str]) -> String {
    let out = Command::new(probe())
        .arg("jail-run")
        .args(args)
        .uid(ww_jail::NOBODY)
        .gid(ww_jail::NOBODY)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn files_are_denied() {
    let out = as_nobody(&["read", "/etc/passwd"]);
    assert!(out.contains("refused"), "{out}");
    assert!(out.contains("ending: exited with 1"), "{out}");
    let out = as_nobody(&["read", "/etc/ld.so.cache"]);
    assert!(out.contains("ending: exited with 0"), "{out}");
}

#[test]
fn network_is_denied() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let out = as_nobody(&["connect", &addr]);
    assert!(out.contains("refused"), "{out}");
    assert!(listener.accept().is_err());
}

#[test]
fn a_fork_bomb_stops_at_the_bound() {
    // 16 processes: the relay, the init and the probe count too.
    let out = as_nobody(&["fork-bomb"]);
    assert!(out.starts_with("forked 13,"), "{out}");
}

#[test]
fn the_parent_is_out_of_reach() {
    let out = as_nobody(&["ptrace", "1"]);
    assert!(out.contains("Operation not permitted"), "{out}");
}

#[test]
fn the_cell_dies_with_the_node() {
    use std::io::BufRead;
    use std::time::Duration;

    use crate::util::{alive, descendants, eventually};

    let mut node = Command::new(probe())
        .arg("jail-pause")
        .uid(ww_jail::NOBODY)
        .gid(ww_jail::NOBODY)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(node.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // The relay, the init, the program.
    let tree = descendants(node.id());
    assert_eq!(tree.len(), 3, "{line:?} {tree:?}");
    node.kill().unwrap();
    node.wait().unwrap();
    assert!(
        eventually(Duration::from_secs(10), || tree
            .iter()
            .all(|pid| !alive(*pid))),
        "the jail outlived its node: {tree:?}"
    );
}
