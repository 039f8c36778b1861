//! What a cell is handed still works inside: its vat's socket on fd 3.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

use ww_jail::Ending;

use crate::util::{jail, policy, probe_command};

#[test]
fn a_socketpair_on_fd_3_works() {
    let (node, cell) = UnixStream::pair().unwrap();
    let jail = jail(&policy());
    let mut jailed = jail
        .spawn(probe_command(&["fd3"]), &[(cell.as_fd(), 3)])
        .unwrap();
    drop(cell);
    let mut node = node;
    let mut ping = [0; 4];
    node.read_exact(&mut ping).unwrap();
    assert_eq!(&ping, b"ping");
    node.write_all(b"pong").unwrap();
    let mut out = String::new();
    jailed
        .child()
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(jailed.wait().unwrap(), Ending::Exited(0), "{out}");
    assert_eq!(out.trim(), "answer: pong");
}

#[test]
fn descriptors_whose_numbers_cross_are_both_passed() {
    // Hand the same socket at 3 and 4: the second `dup2` must not clobber
    // the first's source.
    let (node, cell) = UnixStream::pair().unwrap();
    let jail = jail(&policy());
    let fds = [(cell.as_fd(), 4), (cell.as_fd(), 3)];
    let mut jailed = jail.spawn(probe_command(&["fd3"]), &fds).unwrap();
    drop(cell);
    let mut node = node;
    let mut ping = [0; 4];
    node.read_exact(&mut ping).unwrap();
    node.write_all(b"pong").unwrap();
    assert_eq!(jailed.wait().unwrap(), Ending::Exited(0));
}

#[test]
fn only_stdio_and_the_passed_descriptors_reach_the_program() {
    // A descriptor of the node without close-on-exec, as a C library
    // might leave one.
    let file = std::fs::File::open("/etc/passwd").unwrap();
    // SAFETY: dup of a live descriptor; the copy is closed below.
    let leaked = unsafe { libc::dup(std::os::fd::AsRawFd::as_raw_fd(&file)) };
    assert!(leaked >= 0);
    let (_node, cell) = UnixStream::pair().unwrap();
    let jail = jail(&policy());
    let mut jailed = jail
        .spawn(probe_command(&["open-fds"]), &[(cell.as_fd(), 3)])
        .unwrap();
    let mut out = String::new();
    jailed
        .child()
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(jailed.wait().unwrap(), Ending::Exited(0), "{out}");
    // SAFETY: closing the copy made above.
    unsafe { libc::close(leaked) };
    assert_eq!(
        out.trim(),
        "0 1 2 3",
        "the node's descriptor {leaked} leaked"
    );
}
