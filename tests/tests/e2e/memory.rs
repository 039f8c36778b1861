//! The node-wide memory budget: every cell's memory limit, pid0's included,
//! is reserved from `--max-memory-total`; hostile children cannot take the
//! node past it, and pid0 is limited like any cell.

use ww_tests::*;

/// The budget of the attack test, in MiB: pid0, an idle sibling and six
/// hogs, each reserving its 64 MiB limit and the 3 MiB of its RPC bounds
/// ([`RPC_BOUNDS`]), and the remote shell sessions' 3 MiB fill it; the
/// seventh hog is refused.
const TOTAL_MIB: u64 = 560;
/// Small RPC bounds (1 MiB of calls, 1 MiB queued, 256 capabilities of
/// 4 KiB): 3 MiB reserved per cell beside its memory limit.
const RPC_BOUNDS: [&str; 6] = [
    "--max-call-bytes",
    "1048576",
    "--max-queued-bytes",
    "1048576",
    "--max-caps",
    "256",
];
/// What the node itself may add to its cells' memory, in KiB: its code,
/// heap and the engine (a debug `ww` idles at ~60-100 MiB). Generous; the
/// same attack without a budget takes the node past 1.5 GiB.
const NODE_OWN_KIB: u64 = 256 * 1024;

/// An image whose kernel is the spawner, with the hogs and a sibling in /bin.
fn hog_image() -> tempfile::TempDir {
    let img = image("spawner");
    let bin = img.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for child in ["upcase", "balloon"] {
        std::fs::copy(guest(child), bin.join(format!("{child}.wasm"))).unwrap();
    }
    img
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in KiB.
fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

#[test]
fn memory_hungry_children_are_held_to_the_nodes_budget() {
    let img = hog_image();
    let mut node = Running::start(
        ww_run(&ww())
            .args(["--max-memory-total", &TOTAL_MIB.to_string()])
            .args(["--max-memory-pid0", "64", "--max-memory", "64"])
            .args(RPC_BOUNDS)
            .arg(img.path())
            // Up to 32 hogs with the default limit (64 MiB), each holding 48.
            .args(["--", "hogs", "32", "48", "0"]),
    );
    let full = node.wait_for(Stream::Stdout, "full ");
    let rss = proc_status_kib(node.pid(), "VmRSS");
    node.send_line("go");
    node.wait_for(Stream::Stdout, "done");
    let peak = proc_status_kib(node.pid(), "VmHWM");
    node.send_line("go");
    let (status, stdout, stderr) = node.finish();
    let (stdout, stderr) = (stdout.join("\n"), stderr.join("\n"));
    assert_no_panic(&stderr);
    assert_eq!(status.code(), Some(0), "{stdout}\n{stderr}");

    // A limit no cell may have is refused outright, not as overload.
    let too_big = stdout.lines().find(|l| l.starts_with("too big:")).unwrap();
    assert!(
        too_big.contains("Failed") && too_big.contains("256 MiB"),
        "{too_big}"
    );
    // Six hogs fit; the seventh is refused, naming the budget and the flag.
    assert_eq!(full, "full 6", "{stdout}");
    let refused = stdout.lines().find(|l| l.starts_with("refused 7:"));
    let refused = refused.unwrap_or_else(|| panic!("no refusal:\n{stdout}"));
    assert!(refused.contains("Overloaded"), "{refused}");
    assert!(
        refused.contains("--max-memory-total 560 MiB")
            && refused.contains("3 MiB its RPC bounds")
            && refused.contains("wait for"),
        "{refused}"
    );
    assert!(stdout.contains("refused again: 10"), "{stdout}");
    // Each hog, let go, is stopped by its own limit; the others carry on.
    for i in 1..=6 {
        assert!(stdout.contains(&format!("hog {i}: 125")), "{stdout}");
    }
    assert!(stdout.contains("sibling: 0 STILL HERE"), "{stdout}");
    assert!(stdout.contains("after hogs: exit 0"), "{stdout}");
    // One WARN per spell of a full budget (here one, maybe a second while
    // the hogs' reservations come back), naming the cell refused.
    let warnings = stderr
        .lines()
        .filter(|l| l.contains("memory budget full"))
        .collect::<Vec<_>>();
    assert!((1..=2).contains(&warnings.len()), "{stderr}");
    assert!(
        warnings[0].contains("WARN") && warnings[0].contains("/bin/balloon.wasm"),
        "{stderr}"
    );
    assert!(stderr.contains("stopped (status 125)"), "{stderr}");
    // Bounded by the budget plus the node's own memory.
    let bound = TOTAL_MIB * 1024 + NODE_OWN_KIB;
    assert!(
        rss < bound,
        "node RSS {rss} KiB while hogs held, bound {bound} KiB"
    );
    assert!(peak < bound, "node peak RSS {peak} KiB, bound {bound} KiB");
}

#[test]
fn a_pid0_that_allocates_without_bound_exits_125() {
    let img = image("balloon");
    // By default pid0 is limited to an instance slot (256 MiB).
    let out = output(ww_run(&ww()).arg(img.path()));
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert_exit(&out, 125);
    assert!(
        stderr.contains("stopped (status 125)") && stderr.contains("268435456 bytes"),
        "{stderr}"
    );
    let out = output(
        ww_run(&ww())
            .args(["--max-memory-pid0", "32"])
            .arg(img.path()),
    );
    let stderr = text(&out.stderr);
    assert_exit(&out, 125);
    assert!(
        stderr.contains("past its limit of 33554432 bytes"),
        "{stderr}"
    );
}

#[test]
fn memory_flags_that_cannot_work_are_refused_before_boot() {
    let img = image("hello");
    for (flags, says) in [
        (
            &["--max-memory", "300"][..],
            "--max-memory 300 MiB is more than one cell",
        ),
        (
            &["--max-memory-pid0", "0"][..],
            "--max-memory-pid0 must be at least 1",
        ),
        (
            &["--max-memory-total", "100"][..],
            "memory budget of 100 MiB (--max-memory-total) cannot hold",
        ),
    ] {
        let out = output(ww_run(&ww()).args(flags).arg(img.path()));
        let stderr = text(&out.stderr);
        assert_exit(&out, 2);
        assert!(stderr.contains(says), "{flags:?}: {stderr}");
    }
}
