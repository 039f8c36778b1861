use std::path::Path;

use ww_tests::*;

/// A WASI P1 core module: writes "hello from p1" to stdout.
const P1_HELLO: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from p1\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 14))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
"#;

/// A core module importing a function no host provides.
const ALIEN: &str = r#"
(module
  (import "elsewhere" "teleport" (func))
  (func (export "_start") (call 0)))
"#;

/// An image whose kernel is the spawner, with the children in /bin.
fn spawner_image() -> tempfile::TempDir {
    let img = image("spawner");
    let bin = img.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for child in [
        "upcase",
        "kernel",
        "spin",
        "balloon",
        "exporter",
        "sandbox",
        "spawner",
        "bench-call",
    ] {
        std::fs::copy(guest(child), bin.join(format!("{child}.wasm"))).unwrap();
    }
    std::fs::write(bin.join("p1.wasm"), wat::parse_str(P1_HELLO).unwrap()).unwrap();
    std::fs::write(bin.join("alien.wasm"), wat::parse_str(ALIEN).unwrap()).unwrap();
    std::fs::create_dir_all(img.path().join("etc")).unwrap();
    std::fs::write(img.path().join("etc/not-wasm"), "plain text").unwrap();
    img
}

fn scenario(img: &Path, args: &[&str]) -> (String, String) {
    let out = output(ww_run(&ww()).arg(img).arg("--").args(args));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_no_panic(&stderr);
    assert_exit(&out, 0);
    (stdout, stderr)
}

/// The number after `key` in `text` (`key 12.5 ms` gives 12.5).
fn figure_after(text: &str, key: &str) -> f64 {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("no `{key}` in {text}"));
    text[at + key.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after `{key}` in {text}"))
}

#[test]
fn sixteen_spinners_of_one_child_get_what_one_spinner_beside_them_gets() {
    let img = spawner_image();
    let (stdout, stderr) = scenario(img.path(), &["fair", "16", "1500"]);
    // The lone spinner ran into its budget while the sixteen spun beside it.
    let lone = figure_after(&stdout, "lone: 124 after");
    assert!(lone >= 1500.0, "{stdout}");
    // The swarm's group and the lone spinner's shared the thread about
    // half and half once both ran: together the sixteen got about what the
    // lone one got (a sixteenth each, less the lone one's head start),
    // where turns by cell would have given them sixteen times as much.
    let swarm = figure_after(&stdout, "swarm: 16 spinners used");
    assert!(
        swarm < 2.0 * lone && swarm > lone / 4.0,
        "the swarm used {swarm} ms while the lone spinner used {lone} ms:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("swarm exit: 0"), "{stdout}");
}

#[test]
fn the_nodes_work_on_a_childs_calls_counts_against_its_cpu_budget() {
    let img = spawner_image();
    // 1,200 identity calls (500 of each kind and the warm-ups): in a debug
    // build the child's own code and its host calls measured ~330 ms, the
    // node's work on its calls as much again (~600 ms in all). Charged
    // only for its own code it would finish within the 450 ms budget.
    let (stdout, _) = scenario(img.path(), &["host-work", "500", "450"]);
    assert!(stdout.contains("host-work: exit 124"), "{stdout}");
    let used = figure_after(&stdout, "host-work: exit 124, cpu");
    assert!(used >= 450.0, "{stdout}");
}

#[test]
fn a_child_gets_stdin_and_its_stdout_stderr_and_status_come_back() {
    let img = spawner_image();
    let (stdout, _) = scenario(img.path(), &["stdio"]);
    assert!(stdout.contains("stdout: HELLO CHILD"), "{stdout}");
    assert!(stdout.contains("stderr: upcase: 12 bytes"), "{stdout}");
    assert!(stdout.contains("exit: 7"), "{stdout}");
}

#[test]
fn a_child_gets_exactly_the_capabilities_passed() {
    let img = spawner_image();
    let (stdout, _) = scenario(img.path(), &["attenuate"]);
    assert!(
        stdout.contains("child: ww kernel: epoch 1, 1 capability"),
        "{stdout}"
    );
    assert!(stdout.contains("child:   executor  Executor"), "{stdout}");
    assert!(!stdout.contains("identity"), "{stdout}");
    assert!(stdout.contains("exit: 0"), "{stdout}");
}

#[test]
fn limits_stop_a_cpu_hog_and_a_memory_hog_while_a_sibling_finishes() {
    let img = spawner_image();
    let (stdout, stderr) = scenario(img.path(), &["limits"]);
    assert!(stdout.contains("sibling: 0 STILL HERE"), "{stdout}");
    assert!(stdout.contains("balloon: 125"), "{stdout}");
    assert!(stdout.contains("spin: 124"), "{stdout}");
    assert!(
        stderr.contains("CPU budget") && stderr.contains("past its limit"),
        "{stderr}"
    );
}

/// Killing one child leaves its live sibling running to a normal exit.
#[test]
fn kill_one_of_two_live_children() {
    let img = spawner_image();
    let (stdout, _) = scenario(img.path(), &["kill-sibling"]);
    assert!(stdout.contains("killed: 137"), "{stdout}");
    assert!(stdout.contains("sibling: 0"), "{stdout}");
}

// Regression: killing one of three busy children (no CPU budget) used to
// take seconds per kill, or park the node, because busy cells starved the
// runtime's own tasks (the WASI stream workers) for ~61 time slices at a time.
#[test]
fn killing_busy_children_one_by_one_leaves_the_others_running() {
    let img = spawner_image();
    let (stdout, _) = scenario(img.path(), &["kill-spinners"]);
    for i in 0..3 {
        assert!(stdout.contains(&format!("spinner {i}: 137")), "{stdout}");
    }
    assert!(stdout.contains("spinners: done"), "{stdout}");
}

// Regression: a kill after the executor refused a spawn for its child limit
// used to park the node.
#[test]
fn children_are_killed_after_a_spawn_was_refused_for_the_limit() {
    let img = spawner_image();
    let out = output(
        ww_run(&ww())
            .args(["--config", "max-children=2"])
            .arg(img.path())
            .args(["--", "kill-after-refusal"]),
    );
    let stdout = text(&out.stdout);
    assert_no_panic(&text(&out.stderr));
    assert_exit(&out, 0);
    assert!(stdout.contains("child 3: refused (Overloaded)"), "{stdout}");
    assert!(stdout.contains("child 1: 137"), "{stdout}");
    assert!(stdout.contains("child 2: 137"), "{stdout}");
    assert!(stdout.contains("after kills: exit 0"), "{stdout}");
}

#[test]
fn a_killed_child_exits_137() {
    let img = spawner_image();
    let (stdout, _) = scenario(img.path(), &["kill"]);
    assert!(stdout.contains("killed: 137"), "{stdout}");
}

#[test]
fn a_child_exports_a_capability_its_parent_calls() {
    let img = spawner_image();
    let (stdout, _) = scenario(img.path(), &["bootstrap"]);
    assert!(stdout.contains("bootstrap: child echoes ping"), "{stdout}");
    assert!(stdout.contains("exit: 137"), "{stdout}");
}

#[test]
fn a_wasi_p1_core_module_runs_as_a_child() {
    let img = spawner_image();
    let (stdout, _) = scenario(img.path(), &["p1"]);
    assert!(stdout.contains("p1: 0 hello from p1"), "{stdout}");
}

#[test]
fn bad_children_fail_clearly_with_the_cell_api_status() {
    let img = spawner_image();
    let (stdout, _) = scenario(img.path(), &["errors"]);
    let line = |prefix: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} line in:\n{stdout}"))
            .to_string()
    };
    let missing = line("/bin/nope.wasm:");
    assert!(
        missing.contains("not found") && missing.contains("127"),
        "{missing}"
    );
    let not_wasm = line("/etc/not-wasm:");
    assert!(
        not_wasm.contains("not a WebAssembly file") && not_wasm.contains("126"),
        "{not_wasm}"
    );
    let escape = line("/../escape.wasm:");
    assert!(escape.contains("leaves the image"), "{escape}");
    let alien = line("/bin/alien.wasm:");
    assert!(alien.contains("exit 126"), "{alien}");
}

#[test]
fn runtime_load_compiles_raw_bytes_and_a_child_can_have_no_file_system() {
    let img = spawner_image();
    let (stdout, _) = scenario(img.path(), &["load"]);
    assert!(
        stdout.contains("loaded child: read-image: denied"),
        "{stdout}"
    );
    assert!(stdout.contains("exit: 0"), "{stdout}");
    let garbage = stdout
        .lines()
        .find(|l| l.starts_with("garbage:"))
        .unwrap_or_default();
    assert!(garbage.contains("not a WebAssembly file"), "{stdout}");
}

#[test]
fn an_executor_refuses_children_past_its_limit_until_one_exits() {
    let img = spawner_image();
    let out = output(
        ww_run(&ww())
            .args(["--config", "max-children=2"])
            .arg(img.path())
            .args(["--", "count"]),
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("child 1: running") && stdout.contains("child 2: running"),
        "{stdout}"
    );
    let third = stdout
        .lines()
        .find(|l| l.starts_with("child 3:"))
        .unwrap_or_default();
    assert!(
        third.contains("refused") && third.contains("limit"),
        "{stdout}"
    );
    assert!(stdout.contains("after exit: spawned, exit 0"), "{stdout}");
}

#[test]
fn processes_and_executors_of_an_old_epoch_fail_stale() {
    let img = spawner_image();
    let mut node = Running::start(
        ww_run(&ww())
            .arg("--revoke-on-hup")
            .arg(img.path())
            .args(["--", "epoch"]),
    );
    node.advance_epoch();
    assert_eq!(
        node.wait_for(Stream::Stdout, "process:"),
        "process: stale 2"
    );
    assert_eq!(
        node.wait_for(Stream::Stdout, "executor:"),
        "executor: stale 2"
    );
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
}

/// Resident set size of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    proc_status_kib(pid, "VmRSS")
}

#[test]
fn a_thousand_spawn_kill_cycles_leave_memory_flat() {
    let img = spawner_image();
    let mut node = Running::start(
        ww_run(&ww())
            .arg(img.path())
            .args(["--", "cycles", "100", "1000"]),
    );
    node.wait_for(Stream::Stdout, "warm");
    let warm = rss_kib(node.pid());
    node.send_line("go");
    node.wait_for(Stream::Stdout, "done");
    let done = rss_kib(node.pid());
    node.send_line("go");
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
    // Generous: a leak of even 20 KiB per cell would add ~20 MiB.
    assert!(
        done < warm + 16 * 1024,
        "RSS grew from {warm} KiB to {done} KiB over 1,000 spawn/kill cycles"
    );
}
