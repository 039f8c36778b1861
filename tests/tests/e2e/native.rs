//! Native cells: the test cell (tests/native, a host executable) as pid0
//! and as children, talking Cap'n Proto to the node on its fd 3.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::Path;

use ww_tests::*;

/// `ww run` with the native cell as pid0 (jailed), and `args` for it.
fn native(args: &[&str]) -> std::process::Command {
    let mut cmd = ww_run(&ww());
    cmd.arg(native_cell()).arg("--").args(args);
    cmd
}

fn run_ok(cmd: &mut std::process::Command) -> (String, String) {
    let out = output(cmd);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_no_panic(&stderr);
    assert_exit(&out, 0);
    (stdout, stderr)
}

/// An image whose kernel (`boot/main`) and `/bin/native-cell` are the
/// native cell.
fn native_image() -> tempfile::TempDir {
    let dir = readable_tempdir();
    for place in ["boot/main", "bin/native-cell"] {
        let path = dir.path().join(place);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(native_cell(), &path).unwrap();
    }
    dir
}

#[test]
fn a_native_pid0_grafts_signs_and_adds_through_ipfs() {
    let (stdout, _) = run_ok(&mut native(&["graft"]));
    assert!(
        stdout.contains("graft: epoch 1, caps executor host identity ipfs routing"),
        "{stdout}"
    );
    let data = tempfile::tempdir().unwrap();
    let mut cmd = ww_run(&ww());
    cmd.arg("--data-dir")
        .arg(data.path())
        .arg(native_cell())
        .args(["--", "demo"]);
    let (stdout, _) = run_ok(&mut cmd);
    assert!(
        stdout.contains("demo: key 32 bytes, signature 64 bytes, valid true"),
        "{stdout}"
    );
    assert!(
        stdout.contains("cat \"hello from a native cell\\n\""),
        "{stdout}"
    );
    // Kubo's CID for the same bytes (ipfs add with its defaults).
    assert!(
        stdout.contains("added QmQ6bjaMnk7oZRtkgsVXetnYLbrEhS76Dt47wsKG9Gy8bh"),
        "{stdout}"
    );
}

#[test]
fn native_cells_run_jailed_unless_no_jail_is_given() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let (stdout, stderr) = run_ok(&mut native(&["reach", &port]));
    assert!(stdout.contains("reach: passwd denied"), "{stdout}");
    assert!(stdout.contains("reach: tcp denied"), "{stdout}");
    assert!(!stderr.contains("--no-jail"), "{stderr}");

    let mut cmd = ww_run(&ww());
    cmd.arg("--no-jail")
        .arg(native_cell())
        .args(["--", "reach", &port]);
    let (stdout, stderr) = run_ok(&mut cmd);
    assert!(stdout.contains("reach: passwd open"), "{stdout}");
    assert!(stdout.contains("reach: tcp open"), "{stdout}");
    let warnings = stderr
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("--no-jail"))
        .count();
    assert_eq!(warnings, 1, "said once: {stderr}");
}

#[test]
fn a_jailed_native_cell_cannot_escape() {
    let (stdout, _) = run_ok(&mut native(&["escape"]));
    let line = |what: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("escape: {what} ")))
            .unwrap_or_else(|| panic!("no {what} line in:\n{stdout}"))
            .to_string()
    };
    assert!(line("/root").contains("denied"), "{stdout}");
    assert!(line("write /tmp").contains("denied"), "{stdout}");
    assert!(line("write scratch").contains("open"), "{stdout}");
    // Its parent is the jail's init (the node is outside its PID
    // namespace); seccomp refuses ptrace of anything.
    assert!(
        line("ptrace parent").contains("Operation not permitted"),
        "{stdout}"
    );
    // The tree's process bound (64, the init and the cell included).
    let fork = line("fork");
    assert!(
        fork.contains("refused after 62") && fork.contains("Resource temporarily unavailable"),
        "{fork}"
    );
}

#[test]
fn descriptors_are_passed_by_name_from_fd_4() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "file content\n").unwrap();
    let file = std::fs::File::open(file.path()).unwrap();
    let (reader, mut writer) = std::io::pipe().unwrap();
    writer.write_all(b"through a pipe\n").unwrap();
    drop(writer);
    let (a, b) = (file.as_raw_fd(), reader.as_raw_fd());
    let mut cmd = ww_run(&ww());
    cmd.args(["--fd", "data=50", "--fd", "pipe=51"])
        .arg(native_cell())
        .args(["--", "fds"]);
    // SAFETY: the hook makes system calls only, between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // Above anything the test process has open, then into place.
            let (a, b) = (
                libc::fcntl(a, libc::F_DUPFD, 200),
                libc::fcntl(b, libc::F_DUPFD, 200),
            );
            if a < 0 || b < 0 || libc::dup2(a, 50) < 0 || libc::dup2(b, 51) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (stdout, _) = run_ok(&mut cmd);
    assert!(
        stdout.contains("fds: WW_FD_DATA=4 \"file content\\n\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("fds: WW_FD_PIPE=5 \"through a pipe\\n\""),
        "{stdout}"
    );
    drop((file, reader));

    // A Wasm pid0 has nothing to pass them to; a closed descriptor is named.
    let img = image("hello");
    let out = output(ww_run(&ww()).args(["--fd", "x=0"]).arg(img.path()));
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("native pid0"));
    let out = output(ww_run(&ww()).args(["--fd", "x=901"]).arg(native_cell()));
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains("descriptor 901 is not open"),
        "{}",
        text(&out.stderr)
    );
    let out = output(
        ww_run(&ww())
            .args(["--ro", "/no/such/tree"])
            .arg(native_cell()),
    );
    assert_exit(&out, 2);
}

#[test]
fn the_environment_is_only_what_it_is_given() {
    let mut cmd = ww_run(&ww());
    cmd.env("WW_ENV", "WW_TEST_PASSED,WW_TEST_UNSET")
        .env("WW_TEST_PASSED", "passed")
        .env("WW_TEST_SECRET", "secret")
        .env_remove("WW_TEST_UNSET")
        .args(["--env", "B=beta", "--env", "WW_FD_FAKE=9"])
        .arg(native_cell())
        .args(["--", "env"]);
    let (stdout, _) = run_ok(&mut cmd);
    let names: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("env: "))
        .map(|kv| kv.split_once('=').map_or(kv, |(k, _)| k))
        .collect();
    assert_eq!(names, ["B", "TMPDIR", "WW_TEST_PASSED"], "{stdout}");
    assert!(stdout.contains("env: WW_TEST_PASSED=passed"), "{stdout}");
    assert!(stdout.contains("env: B=beta"), "{stdout}");
}

#[test]
fn exit_statuses_follow_the_cell_api() {
    for (args, status) in [
        (&["exit", "0"][..], 0),
        (&["exit", "7"], 7),
        (&["signal", "10"], 128 + 10),
        (&["signal", "9"], 137),
    ] {
        let out = output(&mut native(args));
        assert_no_panic(&text(&out.stderr));
        assert_exit(&out, status);
    }
    let dir = readable_tempdir();
    let not_executable = dir.path().join("data");
    std::fs::write(&not_executable, "not a program").unwrap();
    let out = output(ww_run(&ww()).arg(&not_executable));
    assert_exit(&out, 126);
    assert!(text(&out.stderr).contains("no execute permission"));
    let script = dir.path().join("script");
    std::fs::write(&script, "#!/no/such/interpreter\n").unwrap();
    make_executable(&script);
    let out = output(ww_run(&ww()).arg(&script));
    assert_exit(&out, 127);
    assert!(text(&out.stderr).contains("interpreter"));
}

#[test]
fn a_native_cell_past_its_memory_limit_ends_with_125() {
    // The jail holds pid0's memory limit for its whole tree in a memory
    // cgroup (the test machines let root make one): past it the kernel
    // kills the cell, reported as a Wasm cell's memory limit is.
    let out = output(
        ww_run(&ww())
            .args(["--max-memory-pid0", "64"])
            .arg(native_cell())
            .args(["--", "alloc", "32"]),
    );
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("alloc: 32 MiB"),
        "{}",
        text(&out.stdout)
    );
    let out = output(
        ww_run(&ww())
            .args(["--max-memory-pid0", "64"])
            .arg(native_cell())
            .args(["--", "alloc", "128"]),
    );
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert_exit(&out, 125);
    assert!(
        !text(&out.stdout).contains("alloc:"),
        "{}",
        text(&out.stdout)
    );
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn an_image_whose_kernel_is_native_boots_it() {
    let img = native_image();
    let (stdout, _) = run_ok(ww_run(&ww()).arg(img.path()).args(["--", "graft"]));
    assert!(stdout.contains("graft: epoch 1"), "{stdout}");
    // A shell script is a native kernel too (the jail lets it run its
    // interpreter, and nothing else); it starts in its image.
    let script = readable_tempdir();
    std::fs::create_dir_all(script.path().join("boot")).unwrap();
    std::fs::write(script.path().join("etc"), "").unwrap();
    std::fs::write(
        script.path().join("boot/main"),
        "#!/bin/sh\necho \"argv0 $0, args $*\"; for f in *; do echo \"$f\"; done\n",
    )
    .unwrap();
    make_executable(&script.path().join("boot/main"));
    let (stdout, _) = run_ok(ww_run(&ww()).arg(script.path()).args(["--", "a", "b"]));
    // (For a script, $0 is the path the kernel ran, not argv[0].)
    assert!(stdout.contains("/boot/main, args a b"), "{stdout}");
    assert!(stdout.contains("etc"), "{stdout}");
    // Both kinds of kernel: refused, naming both.
    std::fs::write(img.path().join("boot/main.wasm"), b"\0asm").unwrap();
    let out = output(ww_run(&ww()).arg(img.path()));
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("both boot/main.wasm and boot/main"),
        "{stderr}"
    );
}

#[test]
fn a_native_cell_that_breaks_its_vat_is_dropped_with_a_clear_error() {
    let out = output(&mut native(&["garbage"]));
    assert_exit(&out, 3);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_no_panic(&stderr);
    assert!(stdout.contains("garbage: vat closed"), "{stdout}");
    assert!(stderr.contains("broke its RPC connection"), "{stderr}");
    assert!(stderr.contains("cell=pid0"), "the cell is named: {stderr}");
}

#[test]
fn native_children_run_when_the_node_allows_them() {
    let img = native_image();
    let (stdout, stderr) = run_ok(
        ww_run(&ww())
            .arg("--allow-native-children")
            .arg(img.path())
            .args(["--", "children"]),
    );
    assert!(
        stdout.contains("children: graft child said \"graft: epoch 1, caps identity\", exit 0"),
        "{stdout}"
    );
    // The child that broke its vat is dropped; the node and its parent go on.
    assert!(
        stdout.contains("garbage child said \"garbage: vat closed"),
        "{stdout}"
    );
    assert!(stdout.contains("exit 3; parent key 32 bytes"), "{stdout}");
    assert!(stderr.contains("broke its RPC connection"), "{stderr}");
    assert!(stdout.contains("children: spin child exit 124"), "{stdout}");
    assert!(
        stdout.contains("children: killed child exit 137"),
        "{stdout}"
    );
    assert!(
        stdout.contains("children: exit child 7, signal child 138"),
        "{stdout}"
    );
    assert!(
        stdout.contains("missing program refused") && stdout.contains("status 127"),
        "{stdout}"
    );

    // Not allowed: the spawn is refused, naming the flag.
    let out = output(ww_run(&ww()).arg(img.path()).args(["--", "children"]));
    assert_exit(&out, 1);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("--allow-native-children"), "{stdout}");
}

/// Starts the native cell in `tree` mode with a mark of its own, and
/// returns the running node and the grandchild's pid, once it runs.
fn tree(mode: &[&str], mark: &str) -> (Running, u32) {
    let mut args = vec!["tree", mark];
    args.extend(mode);
    with_grandchild(Running::start(&mut native(&args)), mark)
}

/// Waits for the `tree` cell of `node` to say its grandchild started, and
/// returns the grandchild's pid once it shows in /proc with its arguments
/// (it says so before it execs).
fn with_grandchild(mut node: Running, mark: &str) -> (Running, u32) {
    node.wait_for(Stream::Stdout, "tree: grandchild started");
    let deadline = std::time::Instant::now() + STEP;
    loop {
        if let [pid] = processes_with_args(&["hang", mark])[..] {
            return (node, pid);
        }
        assert!(std::time::Instant::now() < deadline, "no grandchild {mark}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_native_cells_tree_ends_with_it_and_with_the_node() {
    let mark = |what: &str| format!("mark-{what}-{}", std::process::id());
    // The cell ends: what it started ends too.
    let (node, grandchild) = tree(&[], &mark("ends"));
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
    wait_ended(grandchild, "the grandchild of an ended cell");

    // The node ends on SIGTERM: every native tree ends first.
    let (node, grandchild) = tree(&["hang"], &mark("term"));
    kill(node.pid(), libc::SIGTERM);
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(128 + 15), "{}", stderr.join("\n"));
    wait_ended(grandchild, "the grandchild of a cell on an ended node");

    // Unjailed too (a process group, not a PID namespace, holds the tree).
    let mark = mark("unjailed");
    let mut cmd = ww_run(&ww());
    cmd.arg("--no-jail")
        .arg(native_cell())
        .args(["--", "tree", &mark]);
    let (node, grandchild) = with_grandchild(Running::start(&mut cmd), &mark);
    let (status, _, _) = node.finish();
    assert_eq!(status.code(), Some(0));
    wait_ended(grandchild, "the grandchild of an ended unjailed cell");
}

#[test]
fn rpc_bounds_hold_for_a_native_cell() {
    let mut cmd = ww_run(&ww());
    cmd.args(["--max-caps", "50"])
        .arg(native_cell())
        .args(["--", "caps", "100"]);
    let (stdout, stderr) = run_ok(&mut cmd);
    assert!(stdout.contains("caps: refused after"), "{stdout}");
    assert!(stdout.contains("--max-caps"), "{stdout}");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("WARN") && l.contains("cell pid0") && l.contains("--max-caps")),
        "one warning names the cell and the bound: {stderr}"
    );
}
