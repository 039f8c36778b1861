//! Hostile cells against the node's resources, one attack each, through
//! the real binary (tests/guests/src/bin/hostile.rs): the node stays up,
//! its memory stays under a stated bound, the attacker gets a clear error
//! or is held back, and other cells carry on.

use ww_tests::*;

/// The node's memory may not pass this under any attack here: a debug
/// node at rest is ~60-100 MiB; every attack would take it past 1 GiB
/// without its bound.
const RSS_BOUND_KIB: u64 = 400 << 10;

/// An image whose kernel is the hostile guest, with itself in /bin.
fn hostile_image() -> tempfile::TempDir {
    let img = image("hostile");
    let bin = img.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(guest("hostile"), bin.join("hostile.wasm")).unwrap();
    img
}

/// The kernel as pid0, with the hostile guest as its service `attack`
/// running `words` (and granted `executor`).
fn kernel_with_attack(words: &str) -> tempfile::TempDir {
    let img = image("kernel");
    let svc = img.path().join("svc/attack");
    std::fs::create_dir_all(svc.join("boot")).unwrap();
    std::fs::create_dir_all(svc.join("etc")).unwrap();
    std::fs::copy(guest("hostile"), svc.join("boot/main.wasm")).unwrap();
    std::fs::write(svc.join("etc/attack"), words).unwrap();
    let bin = img.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(guest("hostile"), bin.join("hostile.wasm")).unwrap();
    let init = img.path().join("etc/init.d");
    std::fs::create_dir_all(&init).unwrap();
    std::fs::write(init.join("00-grant.glia"), "(grant \"attack\" executor)\n").unwrap();
    img
}

/// The kernel's shell still evaluates: another cell carries on.
fn shell_answers(node: &mut Running) {
    node.send_line("(+ 40 2)");
    node.wait_for(Stream::Stdout, "42");
}

fn assert_rss_bounded(node: &Running, when: &str) {
    let peak = proc_status_kib(node.pid(), "VmHWM");
    assert!(
        peak < RSS_BOUND_KIB,
        "{when}: the node's peak RSS was {peak} KiB, over {RSS_BOUND_KIB} KiB"
    );
}

#[test]
fn parameters_that_read_larger_than_they_are_sent_are_refused() {
    let img = hostile_image();
    // Host backtraces never reach a guest in an error text.
    let mut node = Running::start(
        ww_run(&ww())
            .env("RUST_BACKTRACE", "1")
            .arg(img.path())
            .args(["--", "amplify", "64"]),
    );
    let refused = node.wait_for(Stream::Stdout, "amplify: refused");
    assert!(refused.contains("refused 64 of 64"), "{refused}");
    assert!(
        refused.contains("read larger than the message"),
        "{refused}"
    );
    assert!(!refused.contains("backtrace"), "{refused}");
    node.wait_for(Stream::Stdout, "ready");
    assert_rss_bounded(&node, "after 64 amplified calls");
    let (status, _, stderr) = node.finish();
    assert_no_panic(&stderr.join("\n"));
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
}

#[test]
fn a_cell_that_never_reads_its_answers_is_held_back() {
    let img = kernel_with_attack("unread 1000000");
    // A low bound, reached in a few thousand answers (the default's 4 MiB
    // takes tens of thousands); the mechanism is the same.
    let mut node = Running::start(
        ww_run(&ww())
            .args(["--max-queued-bytes", "262144"])
            .arg(img.path()),
    );
    let warning = node.wait_for(Stream::Stderr, "has not read");
    assert!(warning.contains("--max-queued-bytes"), "{warning}");
    assert!(warning.contains("attack"), "the cell is named: {warning}");
    shell_answers(&mut node);
    assert_rss_bounded(&node, "with a cell not reading its answers");
    kill(node.pid(), libc::SIGKILL);
    let _ = node.finish();
}

#[test]
fn a_cell_asking_for_capabilities_it_never_releases_is_refused_more() {
    let img = hostile_image();
    let mut node = Running::start(
        ww_run(&ww())
            .arg("--max-caps")
            .arg("600")
            .arg(img.path())
            .args(["--", "caps", "5000"]),
    );
    let refused = node.wait_for(Stream::Stdout, "caps:");
    assert!(refused.contains("refused"), "{refused}");
    assert!(refused.contains("--max-caps"), "{refused}");
    node.wait_for(Stream::Stdout, "ready");
    assert_rss_bounded(&node, "after a capability flood");
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("WARN") && l.contains("capabilities")),
        "one warning names the bound: {stderr:?}"
    );
}

#[test]
fn writes_to_a_stdin_nobody_reads_wait_instead_of_piling_up() {
    let img = kernel_with_attack("flood 3000");
    let mut node = Running::start(
        ww_run(&ww())
            .args(["--max-call-bytes", "4194304"])
            .arg(img.path()),
    );
    let warning = node.wait_for(Stream::Stderr, "bytes of calls in flight");
    assert!(warning.contains("--max-call-bytes"), "{warning}");
    shell_answers(&mut node);
    assert_rss_bounded(&node, "with 3 GiB written toward an unread stdin");
    kill(node.pid(), libc::SIGKILL);
    let _ = node.finish();
}

#[test]
fn a_cell_that_breaks_its_vat_loses_its_wit_door_too() {
    let img = hostile_image();
    let out = output(
        ww_run(&ww())
            .env("RUST_BACKTRACE", "full")
            .arg(img.path())
            .args(["--", "violate"]),
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_no_panic(&stderr);
    assert!(
        stdout.contains("violate: before: key of 32 bytes"),
        "{stdout}"
    );
    assert!(stdout.contains("violate: vat closed"), "{stdout}");
    assert!(!stdout.contains("STILL OPEN"), "{stdout}");
    assert!(!stdout.contains("backtrace"), "{stdout}");
    assert!(
        stdout.contains("violate: after:") && stdout.contains("lost its capabilities"),
        "{stdout}"
    );
    assert_exit(&out, 0);
}
