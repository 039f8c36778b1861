//! Compilation is bounded: a cell that has the node compile a module built
//! to be slow (a "compile bomb") or a flood of distinct modules gets a
//! clear error, while the node, its other cells and its caches stay within
//! their bounds.

use std::path::Path;

use ww_tests::*;

/// A WASI P1 core module that copies stdin to stdout until stdin ends.
const CAT: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $again
      (i32.store (i32.const 0) (i32.const 64))
      (i32.store (i32.const 4) (i32.const 1024))
      (if (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8))
        (then (return)))
      (if (i32.eqz (i32.load (i32.const 8))) (then (return)))
      (i32.store (i32.const 4) (i32.load (i32.const 8)))
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))
      (br $again))))
"#;

fn bomb_image() -> tempfile::TempDir {
    let img = image("compile-bomb");
    std::fs::create_dir_all(img.path().join("bin")).unwrap();
    std::fs::write(
        img.path().join("bin/cat.wasm"),
        wat::parse_str(CAT).unwrap(),
    )
    .unwrap();
    img
}

fn line<'a>(stdout: &'a [String], prefix: &str) -> &'a str {
    stdout
        .iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{}", stdout.join("\n")))
}

/// Generous: a debug ww idles at about 100 MiB; a compile never happens in
/// the node's own process.
const RSS_BOUND_KIB: u64 = 512 * 1024;

#[test]
fn a_compile_bomb_is_stopped_at_its_bounds_while_the_node_and_a_sibling_answer() {
    let img = bomb_image();
    // The bomb (3.5 MiB, one function) takes several seconds to compile in
    // a debug build, more on a busy machine: the 1 s deadline stops it, and
    // the 1 s budget is then spent. The 5 MiB module is refused for its size.
    let mut node = Running::start(
        ww_run(&ww())
            .args(["--max-module-size", "4"])
            .args(["--compile-timeout", "1"])
            .args(["--compile-budget", "1"])
            .arg(img.path())
            .args(["--", "bomb", "3584", "5120"]),
    );
    node.wait_for(Stream::Stdout, "done");
    let peak = proc_status_kib(node.pid(), "VmHWM");
    node.send_line("go");
    let (status, stdout, stderr) = node.finish();
    let logs = stderr.join("\n");
    assert_no_panic(&logs);
    assert_eq!(status.code(), Some(0), "{}\n{logs}", stdout.join("\n"));

    let too_big = line(&stdout, "too-big:");
    assert!(
        too_big.contains("Failed") && too_big.contains("--max-module-size"),
        "{too_big}"
    );
    let bomb = line(&stdout, "bomb:");
    assert!(
        bomb.contains("Failed") && bomb.contains("--compile-timeout"),
        "{bomb}"
    );
    // The node's thread never compiled: the executor and the sibling cell
    // answered while the bomb was compiling.
    let meanwhile = line(&stdout, "while compiling:");
    assert!(
        !meanwhile.contains(" 0 echoes") && !meanwhile.contains(" 0 sibling"),
        "{meanwhile}"
    );
    let after = line(&stdout, "after:");
    assert!(
        after.contains("Overloaded") && after.contains("--compile-budget"),
        "{after}"
    );
    line(&stdout, "node: answering");
    // One WARN per bound, naming the cell.
    for bound in ["--max-module-size", "--compile-timeout", "--compile-budget"] {
        let warned: Vec<_> = stderr
            .iter()
            .filter(|l| l.contains("WARN") && l.contains(bound))
            .collect();
        assert_eq!(warned.len(), 1, "{bound}:\n{logs}");
        assert!(warned[0].contains("cell=pid0"), "{}", warned[0]);
    }
    assert!(
        peak < RSS_BOUND_KIB,
        "the node's RSS peaked at {peak} KiB (bound {RSS_BOUND_KIB} KiB)"
    );
}

fn cache_usage(dir: &Path) -> (usize, u64) {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
        .fold((0, 0), |(n, bytes), e| {
            (n + 1, bytes + e.metadata().unwrap().len())
        })
}

/// Copies the shared cache's compiled `guest` (when it holds it) into
/// `dir`, so that a node on a cache of its own does not compile its pid0
/// again (tens of seconds in a debug build).
fn seed_cache(dir: &Path, guest_name: &str) {
    use sha2::Digest;
    let wasm = std::fs::read(guest(guest_name)).unwrap();
    let prefix = hex::encode(sha2::Sha256::digest(&wasm));
    let Ok(shared) = std::fs::read_dir(cache_dir()) else {
        return;
    };
    for entry in shared.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn a_compile_flood_keeps_the_caches_within_their_caps() {
    let img = bomb_image();
    let cache = tempfile::tempdir().unwrap();
    seed_cache(cache.path(), "compile-bomb");
    let modules = 30;
    let mut node = Running::start(
        ww_run_with_cache(&ww(), cache.path())
            .args(["--cache-max-size", "1"])
            .args(["--code-cache-max-size", "1"])
            .arg(img.path())
            .args(["--", "flood", &modules.to_string()]),
    );
    node.wait_for(Stream::Stdout, "done");
    let peak = proc_status_kib(node.pid(), "VmHWM");
    let (files, bytes) = cache_usage(cache.path());
    node.send_line("go");
    let (status, stdout, stderr) = node.finish();
    let logs = stderr.join("\n");
    assert_no_panic(&logs);
    assert_eq!(status.code(), Some(0), "{}\n{logs}", stdout.join("\n"));
    assert_eq!(
        line(&stdout, "flood:"),
        format!("flood: {modules} loaded, 0 failed")
    );
    // Each module's compiled code is about 80 KiB: without the cap the
    // directory would hold all of them (2.4 MB).
    assert!(bytes <= 1 << 20, "{files} artefacts, {bytes} bytes");
    assert!(files < modules, "{files} artefacts, {bytes} bytes");
    assert!(
        peak < RSS_BOUND_KIB,
        "the node's RSS peaked at {peak} KiB (bound {RSS_BOUND_KIB} KiB)"
    );
}
