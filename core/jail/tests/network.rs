//! No network: a jailed process cannot reach a loopback listener of the
//! node, nor open sockets of its own.

use std::net::TcpListener;

use ww_jail::Ending;

use crate::util::{policy, probe_command, run};

#[test]
fn loopback_tcp_is_denied_and_the_listener_sees_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();

    // Unjailed, the same probe connects: the denial below is the jail's.
    let out = probe_command(&["connect", &addr]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(listener.accept().is_ok());

    let (ending, out) = run(&policy(), &["connect", &addr]);
    assert_eq!(ending, Ending::Exited(1), "{out}");
    assert!(out.contains("refused"), "{out}");
    // The probe has exited; a connection it made would be queued by now.
    let err = listener.accept().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
}

#[test]
fn new_unix_sockets_only_when_the_policy_allows() {
    let (ending, out) = run(&policy(), &["unix-socket"]);
    assert_eq!(ending, Ending::Exited(1), "{out}");
    assert!(out.contains("Operation not permitted"), "{out}");
    let mut allowed = policy();
    allowed.unix_sockets = true;
    let (ending, out) = run(&allowed, &["unix-socket"]);
    assert_eq!(ending, Ending::Exited(0), "{out}");
}

#[test]
fn with_the_network_granted_loopback_tcp_connects_and_the_rest_stays_jailed() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut granted = policy();
    granted.network = true;
    let (ending, out) = run(&granted, &["connect", &addr]);
    assert_eq!(ending, Ending::Exited(0), "{out}");
    assert!(listener.accept().is_ok(), "the connection arrived");
    // The files stay jailed: the network grants name resolution's files,
    // not the rest of /etc.
    let (ending, out) = run(&granted, &["read", "/etc/passwd"]);
    assert_eq!(ending, Ending::Exited(1), "{out}");
    // And Unix sockets stay off unless allowed on their own.
    let (ending, out) = run(&granted, &["unix-socket"]);
    assert_eq!(ending, Ending::Exited(1), "{out}");
}
