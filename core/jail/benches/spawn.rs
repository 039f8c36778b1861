//! Start to exit of a trivial program (`/bin/true`), jailed and not.
//!
//! `unjailed` is std's spawn as it is (posix_spawn, a vfork); `unjailed,
//! forked` adds an empty `pre_exec`, which makes std fork as the jail must;
//! `jailed` is the whole jail: a spawning thread in a new PID namespace,
//! the init's setup (limits, uid, user/network/IPC namespaces, Landlock,
//! seccomp), its fork of the program, and the report; `jailed, memory
//! cgroup` adds a memory limit held by a cgroup (made, joined, removed per
//! spawn) where the host has one, `jailed, RLIMIT_AS` the same limit as an
//! rlimit; `jailed, host network` keeps the node's network namespace (what
//! a new one costs).

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use criterion::{criterion_group, criterion_main, Criterion};
use ww_jail::{Ending, Jail, Policy};

const PROGRAM: &str = "/bin/true";

fn command() -> Command {
    let mut command = Command::new(PROGRAM);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn spawn(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn to exit");
    group.bench_function("unjailed", |b| {
        b.iter(|| assert!(command().status().unwrap().success()))
    });
    group.bench_function("unjailed, forked", |b| {
        b.iter(|| {
            let mut command = command();
            // SAFETY: an empty pre_exec makes std fork instead of posix_spawn.
            unsafe { command.pre_exec(|| Ok(())) };
            assert!(command.status().unwrap().success())
        })
    });
    let policy = Policy {
        executable: vec![PROGRAM.into()],
        ..Policy::default()
    };
    let jail = Jail::new(&policy).expect("the bench needs root and a full kernel");
    group.bench_function("jailed", |b| {
        b.iter(|| {
            let mut jailed = jail.spawn(command(), &[]).unwrap();
            assert_eq!(jailed.wait().unwrap(), Ending::Exited(0));
        })
    });
    let limited = |cgroup: bool| Policy {
        limits: ww_jail::Limits {
            memory: Some(256 << 20),
            memory_cgroup: cgroup,
            ..ww_jail::Limits::default()
        },
        ..policy.clone()
    };
    for (name, policy) in [
        ("jailed, memory cgroup", limited(true)),
        ("jailed, RLIMIT_AS", limited(false)),
        (
            "jailed, host network",
            Policy {
                network: true,
                ..policy.clone()
            },
        ),
    ] {
        let jail = Jail::new(&policy).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut jailed = jail.spawn(command(), &[]).unwrap();
                assert_eq!(jailed.wait().unwrap(), Ending::Exited(0));
            })
        });
    }
    group.bench_function("jail built and spawned", |b| {
        b.iter(|| {
            let jail = Jail::new(&policy).unwrap();
            let mut jailed = jail.spawn(command(), &[]).unwrap();
            assert_eq!(jailed.wait().unwrap(), Ending::Exited(0));
        })
    });
    group.finish();
}

criterion_group!(benches, spawn);
criterion_main!(benches);
