//! The tree ends with the cell: a kill through the handle ends every
//! descendant, and so does the node's death.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use ww_jail::Ending;

use crate::util::{alive, descendants, eventually, jail, policy, probe, probe_command};

#[test]
fn killing_the_handle_kills_grandchildren() {
    let jail = jail(&policy());
    let mut jailed = jail.spawn(probe_command(&["tree", "3"]), &[]).unwrap();
    let stdout = jailed.child().stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    // The probe says "ready" once its 3 children and 3 grandchildren exist.
    assert!(lines.any(|l| l.unwrap() == "ready"));
    let tree = descendants(jailed.id());
    assert_eq!(
        tree.len(),
        7,
        "the probe, 3 children, 3 grandchildren: {tree:?}"
    );
    assert!(tree.iter().all(|pid| alive(*pid)));

    jailed.kill().unwrap();
    assert_eq!(jailed.wait().unwrap(), Ending::Killed);
    // Gone by the time `wait` returns: the kernel reaps a PID namespace
    // before its init's exit is reported.
    let left: Vec<_> = tree.iter().filter(|pid| alive(**pid)).collect();
    assert!(left.is_empty(), "still alive: {left:?}");
}

#[test]
fn the_cell_dies_with_the_node() {
    // A small node: a process that jails `ww-jail-probe pause`.
    let mut node = Command::new(probe())
        .arg("jail-pause")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(node.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pids: Vec<u32> = line
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "the init and the program: {line:?}");
    assert!(pids.iter().all(|pid| alive(*pid)));

    node.kill().unwrap();
    node.wait().unwrap();
    assert!(
        eventually(Duration::from_secs(10), || pids
            .iter()
            .all(|pid| !alive(*pid))),
        "the jail outlived its node: {pids:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn tokio_spawn_and_kill() {
    let jail = jail(&policy());
    let mut command = tokio::process::Command::new(probe());
    command.arg("pause");
    let mut jailed = jail.spawn_tokio(command, &[]).unwrap();
    assert!(jailed.id().is_some());
    jailed.start_kill().unwrap();
    assert_eq!(jailed.wait().await.unwrap(), Ending::Killed);

    let mut command = tokio::process::Command::new(probe());
    command
        .args(["read", "/etc/ld.so.cache"])
        .stdout(Stdio::null());
    let mut jailed = jail.spawn_tokio(command, &[]).unwrap();
    assert_eq!(jailed.wait().await.unwrap(), Ending::Exited(0));
}

#[test]
fn the_spawning_threads_next_children_stay_in_the_nodes_pid_namespace() {
    let ours = std::fs::read_link("/proc/self/ns/pid").unwrap();
    let jail = jail(&policy());
    let mut jailed = jail.spawn(probe_command(&["pause"]), &[]).unwrap();
    let cells = std::fs::read_link(format!("/proc/{}/ns/pid", jailed.id())).unwrap();
    assert_ne!(cells, ours, "the init has a PID namespace of its own");
    // A failed spawn must restore the thread too.
    assert!(jail
        .spawn(Command::new("/nonexistent/program"), &[])
        .is_err());
    let mut plain = Command::new(probe()).arg("pause").spawn().unwrap();
    let theirs = std::fs::read_link(format!("/proc/{}/ns/pid", plain.id())).unwrap();
    plain.kill().unwrap();
    plain.wait().unwrap();
    jailed.kill().unwrap();
    jailed.wait().unwrap();
    assert_eq!(theirs, ours);
}

#[test]
fn terminate_reaches_the_program_through_its_init() {
    let jail = jail(&policy());
    let mut jailed = jail.spawn(probe_command(&["pause"]), &[]).unwrap();
    jailed.terminate().unwrap();
    let ending = jailed.wait().unwrap();
    assert_eq!(ending, Ending::Signaled(libc::SIGTERM));
    assert_eq!(ending.status(), 143);
}
