//! Limits: processes, memory, CPU. The node (this test process) survives
//! each.

use std::time::Duration;

use ww_jail::{code, Ending};

use std::io::{BufRead, BufReader};

use crate::util::{descendants, jail, policy, probe_command, run};

#[test]
fn a_fork_bomb_stops_at_the_process_bound() {
    let mut policy = policy();
    policy.limits.processes = Some(16);
    let (ending, out) = run(&policy, &["fork-bomb"]);
    assert_eq!(ending, Ending::Exited(0), "{out}");
    // The init and the probe count too.
    let forked: u32 = out
        .strip_prefix("forked ")
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(forked <= 14, "{out}");
    assert!(out.contains("Resource temporarily unavailable"), "{out}");
}

#[test]
fn the_bound_is_per_cell() {
    // Cell A holds its whole bound (init, probe, 3 children, 3
    // grandchildren), all as the same uid as cell B; B still gets all of
    // its own.
    let mut policy = policy();
    policy.limits.processes = Some(8);
    let a_jail = jail(&policy);
    let mut a = a_jail.spawn(probe_command(&["tree", "3"]), &[]).unwrap();
    let stdout = a.child().stdout.take().unwrap();
    assert!(BufReader::new(stdout)
        .lines()
        .any(|l| l.unwrap() == "ready"));
    assert_eq!(descendants(a.id()).len(), 7);

    let (_, b) = run(&policy, &["fork-bomb"]);
    assert!(b.starts_with("forked 6,"), "{b}");
    a.kill().unwrap();
    a.wait().unwrap();
}

/// The memory cgroup these tests run with: the machines that run them let
/// root make one (cgroup v1's memory controller, or a v2 cgroup that
/// delegates it). Fails, naming what is missing, where that is not so.
fn memory_cgroup() -> &'static str {
    ww_jail::probe().memory_cgroup.unwrap_or_else(|| {
        panic!(
            "the jail's tests need a memory cgroup the node can make (root, and a memory \
             controller: cgroup v1's, or a cgroup v2 that delegates it): {}",
            ww_jail::probe()
        )
    })
}

#[test]
fn allocating_past_the_memory_limit_ends_with_125_in_a_cgroup() {
    memory_cgroup();
    let mut policy = policy();
    policy.limits.memory = Some(256 << 20);
    let (ending, out) = run(&policy, &["alloc", &(64 << 20).to_string()]);
    assert_eq!(ending, Ending::Exited(0), "{out}");
    // The kernel kills the probe past its cgroup's limit, and the cgroup's
    // count of OOM kills tells the init why.
    let (ending, out) = run(&policy, &["alloc", &(1u64 << 30).to_string()]);
    assert_eq!(ending, Ending::MemoryLimit, "{out}");
    assert_eq!(ending.status(), code::MEMORY_LIMIT);
    assert!(!out.contains("allocated"), "{out}");
}

#[test]
fn the_memory_limit_holds_for_the_whole_tree() {
    memory_cgroup();
    let mut policy = policy();
    policy.limits.memory = Some(256 << 20);
    // Four children of 96 MiB each: 384 MiB for the tree. The cgroup kills
    // at least one; the probe itself (small) survives to say so.
    let (ending, out) = run(&policy, &["alloc-tree", "4", &(96 << 20).to_string()]);
    assert_eq!(ending, Ending::Exited(0), "{out}");
    assert!(out.contains("signal 9"), "one child was killed: {out}");
    // Per process (RLIMIT_AS, no cgroup), each child fits, and the tree
    // holds four times the limit.
    policy.limits.memory_cgroup = false;
    let (ending, out) = run(&policy, &["alloc-tree", "4", &(96 << 20).to_string()]);
    assert_eq!(ending, Ending::Exited(0), "{out}");
    assert!(
        out.contains("4 allocated; exit 0, exit 0, exit 0, exit 0"),
        "{out}"
    );
}

#[test]
fn without_a_cgroup_the_memory_limit_is_each_processs_address_space() {
    let mut policy = policy();
    policy.limits.memory = Some(256 << 20);
    policy.limits.memory_cgroup = false;
    // The allocation fails inside the probe, and Rust aborts on it: the
    // status is the abort's (134), not 125.
    let (ending, out) = run(&policy, &["alloc", &(1u64 << 30).to_string()]);
    assert_eq!(ending, Ending::Signaled(libc::SIGABRT), "{out}");
    assert!(!out.contains("allocated"), "{out}");
}

#[test]
fn a_busy_loop_past_the_cpu_budget_ends_with_124() {
    let mut policy = policy();
    policy.limits.cpu = Some(Duration::from_millis(500));
    let (ending, out) = run(&policy, &["spin"]);
    assert_eq!(ending, Ending::CpuLimit, "{out}");
    assert_eq!(ending.status(), code::CPU_LIMIT);
}
