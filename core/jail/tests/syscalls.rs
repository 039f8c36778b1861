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
