//! Providers as processes: `--provider PROGRAM`, a Rust provider built
//! with `ww_provider_sdk::serve` and one written in Python with pycapnp,
//! each called from a Wasm guest (and the Python one from the Glia shell,
//! through its schema); stopped with SIGKILL mid-call, restarted; the
//! handshake's protocol number and needs refused when they do not fit.
//!
//! Every provider program here runs in ww-jail (as nobody, in namespaces
//! of its own, under Landlock and seccomp), the Python ones with `--ro`
//! for pycapnp and ww's schemas.

use std::path::Path;
use std::process::Command;

use ww_tests::*;

/// `ww run --provider PROGRAM` (jailed, reading what Python and pycapnp
/// need), the arguments after.
fn run_with(program: &Path) -> Command {
    let mut cmd = ww_run(&ww());
    cmd.args(python_reads())
        .args(python_ro())
        .arg("--provider")
        .arg(program);
    cmd
}

/// A Python script running the Python provider with `args` (a node gives
/// a provider no arguments of its own), in a directory of its own; jailed,
/// it reads the provider through `--ro` (see [`python_ro`]).
fn python_with(args: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = readable_tempdir();
    let script = dir.path().join("provider");
    let provider = python_provider();
    let argv: Vec<String> = std::iter::once(provider.display().to_string())
        .chain(args.split_whitespace().map(str::to_string))
        .map(|a| format!("{a:?}"))
        .collect();
    std::fs::write(
        &script,
        format!(
            "#!/usr/bin/env python3\nimport runpy, sys\nsys.argv = [{}]\n\
             runpy.run_path({:?}, run_name=\"__main__\")\n",
            argv.join(", "),
            provider.display().to_string()
        ),
    )
    .expect("write the wrapper");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// `--ro` of the Python provider's directory, for a wrapper of
/// [`python_with`] that runs it from elsewhere.
fn python_ro() -> [std::ffi::OsString; 2] {
    let dir = python_provider()
        .parent()
        .expect("its directory")
        .to_path_buf();
    ["--ro".into(), dir.into_os_string()]
}

/// The pid the node gives in a line of its log: "runs as process N" or
/// "restarted (pid N)". It is the host's pid of what the node started (a
/// jailed provider's init, whose end ends the provider); `(kv pid)` answers
/// the pid inside the jail's PID namespace.
fn logged_pid(line: &str) -> u32 {
    let after = ["runs as process ", "restarted (pid "]
        .iter()
        .find_map(|m| line.split_once(m).map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("no pid in {line:?}"));
    after
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {line:?}"))
}

/// The host pid of the provider `kv` the node started.
fn started_pid(node: &mut Running) -> u32 {
    logged_pid(&node.seen_or_wait_for(Stream::Stderr, "provider `kv` runs as process"))
}

/// The host pid of the provider `kv` once the node has restarted it.
fn restarted_pid(node: &mut Running) -> u32 {
    logged_pid(&node.seen_or_wait_for(Stream::Stderr, "provider `kv` restarted"))
}

#[test]
fn a_rust_provider_built_with_serve_runs_jailed_as_a_process_for_a_guest() {
    // Jailed by default (its own namespaces, Landlock, seccomp; no
    // network), and a compiled program needs no --ro.
    let img = image("fixture");
    let mut node = Running::start(
        ww_run(&ww())
            .arg("--revoke-on-hup")
            .arg("--provider")
            .arg(provider_program("ww-test-provider-panicky"))
            .arg(img.path()),
    );
    let started = node.wait_for(Stream::Stderr, "runs as process");
    assert!(
        started.contains("provider `fixture`") && started.contains("ww-provider-sdk"),
        "{started}"
    );
    assert_eq!(node.wait_for(Stream::Stdout, "ping:"), "ping: 2");
    // A panic in a method fails that call; the process keeps serving.
    let panic = node.wait_for(Stream::Stdout, "panic:");
    assert!(panic.contains("panicked"), "{panic}");
    assert_eq!(
        node.wait_for(Stream::Stdout, "ping-after-panic:"),
        "ping-after-panic: 3"
    );
    // A guarded capability passed into the process and back comes out
    // guarded: the epoch revokes it.
    assert_eq!(node.wait_for(Stream::Stdout, "reflect:"), "reflect: ok");
    node.advance_epoch();
    assert_eq!(
        node.wait_for(Stream::Stdout, "reflected:"),
        "reflected: stale 2"
    );
    let (status, _, stderr) = node.finish();
    let stderr = stderr.join("\n");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_no_panic(&stderr);
    assert!(!stderr.contains("--no-jail: native cells"), "{stderr}");
    // The process's panic reached the node's log through its stderr,
    // under the provider's name.
    let logged = stderr
        .lines()
        .find(|l| l.contains("fixture panicked on purpose"))
        .unwrap_or_else(|| panic!("the panic was not logged:\n{stderr}"));
    assert!(
        logged.contains("ERROR") && logged.contains("provider=fixture"),
        "{logged}"
    );
}

#[test]
fn ww_providers_describes_provider_programs() {
    let out = output(
        Command::new(ww())
            .arg("providers")
            .args(python_reads())
            .arg(provider_program("ww-identity"))
            .arg(python_provider()),
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("identity 0.1.0"), "{stdout}");
    assert!(stdout.contains("config    identity (required)"), "{stdout}");
    assert!(
        stdout.contains("protocol  1 (ww-provider-sdk 0.1.0)"),
        "{stdout}"
    );
    assert!(stdout.contains("kv 0.1.0"), "{stdout}");
    assert!(stdout.contains("protocol  1 (pycapnp 2.2.4)"), "{stdout}");
    assert!(stdout.contains("needs     -"), "{stdout}");
    // kv needs nothing to start, so it is started for its methods (from
    // the schema nodes it hands over); identity needs the node key.
    assert!(
        stdout.contains("methods of kv:\n    get(key :Text) -> (value :Text, found :Bool)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    set(key :Text, value :Text) -> ()"),
        "{stdout}"
    );
    assert!(
        stdout.contains("methods   not listed: starting it needs config `identity`"),
        "{stdout}"
    );
}

#[test]
fn a_python_provider_killed_mid_call_fails_that_call_naming_it_and_restarts() {
    let img = image("kv");
    let mut node = Running::start(run_with(&python_provider()).arg(img.path()));
    assert_eq!(node.wait_for(Stream::Stdout, "get:"), "get: 1");
    let pid = started_pid(&mut node);
    node.wait_for(Stream::Stdout, "pid:");
    // The guest's `hang` call is in flight once the provider says so.
    node.seen_or_wait_for(Stream::Stderr, "hang: holding this call");
    kill(pid, libc::SIGKILL);
    let failed = node.wait_for(Stream::Stdout, "hang:");
    assert!(
        failed.contains(&format!(
            "provider `kv` (pid {pid}) was killed by signal 9 (SIGKILL)"
        )),
        "{failed}"
    );
    // The node logs why, and capabilities of the dead process fail the
    // same way.
    // (Lines of the two streams come in no fixed order between them.)
    let logged = node.seen_or_wait_for(Stream::Stderr, "was killed by signal 9");
    assert!(logged.contains("ERROR"), "{logged}");
    assert_eq!(node.seen_or_wait_for(Stream::Stdout, "old:"), "old: down");
    let new = restarted_pid(&mut node);
    assert_ne!(new, pid);
    node.seen_or_wait_for(Stream::Stdout, "ready");
    node.send_line("go");
    // A new graft reaches the new process, which has none of the old one's
    // state.
    assert_eq!(node.wait_for(Stream::Stdout, "after:"), "after: (none)");
    assert_eq!(node.wait_for(Stream::Stdout, "after-get:"), "after-get: 2");
    node.wait_for(Stream::Stdout, "new-pid:");
    let (status, _, stderr) = node.finish();
    let stderr = stderr.join("\n");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_no_panic(&stderr);
}

#[test]
fn the_shell_calls_a_python_provider_through_its_schema_across_a_restart() {
    let kernel = image("kernel");
    let mut node = Running::start(run_with(&python_provider()).arg(kernel.path()));
    node.send_line(r#"(kv set "a" "1")"#);
    node.send_line(r#"(kv get "a")"#);
    assert_eq!(
        node.wait_for(Stream::Stdout, ":found"),
        r#"{:found true, :value "1"}"#
    );
    let pid = started_pid(&mut node);
    node.send_line("(kv hang)");
    node.seen_or_wait_for(Stream::Stderr, "hang: holding this call");
    kill(pid, libc::SIGKILL);
    let failed = node.wait_for(Stream::Stderr, "providerDown");
    assert!(
        failed.contains(&format!(
            "provider `kv` (pid {pid}) was killed by signal 9 (SIGKILL)"
        )),
        "{failed}"
    );
    assert_ne!(restarted_pid(&mut node), pid);
    // The shell grafts again before its next command and reaches the
    // restarted process, which has none of the old one's state.
    node.send_line(r#"(kv get "a")"#);
    assert_eq!(
        node.wait_for(Stream::Stdout, ":found"),
        r#"{:found false, :value ""}"#
    );
    let (status, _, stderr) = node.finish();
    let stderr = stderr.join("\n");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_no_panic(&stderr);
    assert!(stderr.contains("grafted again"), "{stderr}");
}

#[test]
fn a_provider_that_hangs_up_but_runs_on_is_killed_and_restarted() {
    let kernel = image("kernel");
    let mut node = Running::start(run_with(&python_provider()).arg(kernel.path()));
    let pid = started_pid(&mut node);
    node.send_line("(kv hangUp)");
    let killed = node.seen_or_wait_for(Stream::Stderr, "closed its connection but runs on");
    assert!(killed.contains(&format!("(pid {pid})")), "{killed}");
    assert_ne!(restarted_pid(&mut node), pid);
    wait_ended(pid, "the provider that hung up");
    node.send_line("(kv pid)");
    // The first command after the failure grafts again first; skip any
    // error line and read the restarted process's answer.
    loop {
        let line = node.wait_for(Stream::Stdout, "");
        if line.trim().parse::<u32>().is_ok() {
            break;
        }
    }
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
}

#[test]
fn with_restarts_off_a_dead_provider_stays_down_and_the_node_runs_on() {
    let kernel = image("kernel");
    let mut node = Running::start(
        run_with(&python_provider())
            .args(["--provider-restart", "off"])
            .arg(kernel.path()),
    );
    let pid = started_pid(&mut node);
    kill(pid, libc::SIGKILL);
    node.seen_or_wait_for(Stream::Stderr, "it stays down");
    node.send_line("(kv pid)");
    let failed = node.wait_for(Stream::Stderr, "providerDown");
    assert!(
        failed.contains("stays down (--provider-restart off)"),
        "{failed}"
    );
    // The node and its other capabilities are fine.
    node.send_line("(+ 1 2)");
    assert_eq!(node.wait_for(Stream::Stdout, "3"), "3");
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
}

#[test]
fn a_provider_of_another_protocol_is_refused_naming_both_versions() {
    let wrapper = python_with("--protocol 2");
    let program = wrapper.path().join("provider");
    let kernel = image("kernel");
    for out in [
        output(run_with(&program).arg(kernel.path())),
        output(
            Command::new(ww())
                .arg("providers")
                .args(python_reads())
                .args(python_ro())
                .arg(&program),
        ),
    ] {
        assert_exit(&out, 2);
        let stderr = text(&out.stderr);
        assert_no_panic(&stderr);
        assert!(
            stderr.contains("speaks ww provider protocol 2, and this ww speaks protocol 1"),
            "{stderr}"
        );
        assert!(stderr.contains(&program.display().to_string()), "{stderr}");
        assert!(text(&out.stdout).is_empty(), "nothing ran");
    }
}

#[test]
fn a_provider_built_against_other_schema_text_still_loads() {
    // Compatibility is Cap'n Proto's: a provider whose copy of ww's
    // schemas differs in comments, and has a method and fields this node
    // does not know, speaks the same protocol and loads.
    let repo = python_provider()
        .ancestors()
        .nth(4)
        .expect("the repository")
        .to_path_buf();
    let schemas = readable_tempdir();
    for entry in std::fs::read_dir(repo.join("capnp/schema")).expect("capnp/schema") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read a schema");
        let mut text = text.replace("# ", "# (reworded) ");
        if path.ends_with("provider.capnp") {
            text = text
                .replace(
                    "        -> (exports :List(Membrane.Export), refused :ConfigRefusal);",
                    "        -> (exports :List(Membrane.Export), refused :ConfigRefusal);\n  \
                     stop @1 () -> ();",
                )
                .replace(
                    "  implementation @3 :Text;",
                    "  implementation @3 :Text;\n  homepage @4 :Text;",
                );
            assert!(text.contains("stop @1") && text.contains("homepage @4"));
        }
        std::fs::write(schemas.path().join(path.file_name().unwrap()), text).expect("write");
    }
    let wrapper = python_with(&format!("--schemas {}", schemas.path().display()));
    let kernel = image("kernel");
    let out = output_with_input(
        run_with(&wrapper.path().join("provider"))
            .arg("--ro")
            .arg(schemas.path())
            .arg(kernel.path()),
        "(kv set \"a\" \"1\")\n(kv get \"a\")\n",
    );
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains(r#"{:found true, :value "1"}"#),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn a_provider_needing_the_network_runs_only_when_granted() {
    let wrapper = python_with("--network");
    let program = wrapper.path().join("provider");
    let kernel = image("kernel");
    let refused = output(run_with(&program).arg(kernel.path()));
    assert_exit(&refused, 2);
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("needs the host's network")
            && stderr.contains("--provider-grant kv:network"),
        "{stderr}"
    );
    // Granted, the jailed provider keeps the host's network: it reaches a
    // loopback listener of this test.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let addr = listener.local_addr().expect("its address");
    let granted = output_with_input(
        run_with(&program)
            .args(["--provider-grant", "kv:network"])
            .arg(kernel.path()),
        &format!("(kv dial \"{addr}\")\n"),
    );
    assert_exit(&granted, 0);
    assert!(
        text(&granted.stdout).contains(":connected true"),
        "{}\n{}",
        text(&granted.stdout),
        text(&granted.stderr)
    );
    listener.set_nonblocking(true).expect("nonblocking");
    assert!(listener.accept().is_ok(), "the connection arrived");
}

#[test]
fn a_jailed_provider_without_the_network_reaches_no_listener() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("its address");
    let kernel = image("kernel");
    let out = output_with_input(
        run_with(&python_provider()).arg(kernel.path()),
        &format!("(kv dial \"{addr}\")\n"),
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(stdout.contains(":connected false"), "{stdout}");
    // The provider has answered; a connection it made would be queued.
    let err = listener.accept().expect_err("nothing arrived");
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
}

#[test]
fn a_program_that_is_not_a_provider_is_refused_clearly() {
    let kernel = image("kernel");
    let out = output(run_with(Path::new("/bin/true")).arg(kernel.path()));
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("/bin/true exited with status 0 before its handshake"),
        "{stderr}"
    );
    // Run by hand, a provider program says what it is.
    let by_hand = output(&mut Command::new(provider_program("ww-identity")));
    assert_exit(&by_hand, 2);
    assert!(
        text(&by_hand.stderr).contains("is a ww provider"),
        "{}",
        text(&by_hand.stderr)
    );
}

#[test]
fn a_missing_required_config_key_is_refused_before_start_naming_the_provider_and_its_keys() {
    let wrapper = python_with("--required-config kv-path");
    let kernel = image("kernel");
    let out = output(run_with(&wrapper.path().join("provider")).arg(kernel.path()));
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert!(
        stderr.contains("provider `kv` needs configuration `kv-path`")
            && stderr.contains("--config kv-path=VALUE")
            && stderr.contains("its keys: kv-path (required)"),
        "{stderr}"
    );
    assert!(text(&out.stdout).is_empty(), "pid0 did not run");
    assert!(
        !stderr.contains("started: exporting"),
        "kv did not start: {stderr}"
    );
}
