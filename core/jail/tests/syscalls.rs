//! Denied system calls answer EPERM from the filter, before the kernel
//! even looks at their arguments.

use ww_jail::Ending;

use crate::util::{policy, run};

#[test]
fn ptrace_of_the_parent_and_the_node_is_denied() {
    // PID 1 in the jail is the probe's parent, the jail's init.
    let (ending, out) = run(&policy(), &["ptrace", "1"]);
    assert_eq!(ending, Ending::Exited(1), "{out}");
    assert!(out.contains("Operation not permitted"), "{out}");
    // The node's pid does not exist in the jail's PID namespace: without
    // the filter this would be ESRCH, not EPERM.
    let node = std::process::id().to_string();
    let (ending, out) = run(&policy(), &["ptrace", &node]);
    assert_eq!(ending, Ending::Exited(1), "{out}");
    assert!(out.contains("Operation not permitted"), "{out}");
}

#[test]
fn namespaces_io_uring_bpf_keyrings_and_x32_are_denied() {
    let mut calls = vec!["unshare", "clone-newuser", "io_uring", "bpf", "keyctl"];
    if cfg!(target_arch = "x86_64") {
        calls.push("x32");
    }
    for call in calls {
        let (ending, out) = run(&policy(), &["syscall", call]);
        assert_eq!(ending, Ending::Exited(1), "{call}: {out}");
        assert!(out.contains("Operation not permitted"), "{call}: {out}");
    }
    // Unjailed, the first two work: the denial is the filter's.
    for call in ["unshare", "clone-newuser"] {
        let out = crate::util::probe_command(&["syscall", call])
            .output()
            .unwrap();
        assert!(out.status.success(), "{call}: {out:?}");
    }
}
