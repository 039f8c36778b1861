//! The kernel's Glia shell over a pipe: capabilities as values, built-ins,
//! PATH commands, init scripts, services, third-party capabilities through
//! their schema nodes, and grafting again when the epoch ends.

use std::path::Path;
use std::process::{Command, Output};

use ww_tests::*;

/// An image with the kernel as pid0 and the hello guest as /bin/hello.wasm.
fn kernel_image() -> tempfile::TempDir {
    let img = image("kernel");
    std::fs::create_dir_all(img.path().join("bin")).unwrap();
    std::fs::copy(guest("hello"), img.path().join("bin/hello.wasm")).unwrap();
    img
}

/// Pipes `script` into `ww run <extra…> <img>` and waits (bounded).
fn pipe(img: &Path, extra: &[&str], script: &str) -> Output {
    let mut cmd = ww_run(&ww());
    cmd.args(extra).arg(img);
    pipe_cmd(&mut cmd, script)
}

fn pipe_cmd(cmd: &mut Command, script: &str) -> Output {
    output_with_input(cmd, script)
}

/// The node's PeerId, from the host's listening log line.
fn peer_id(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.contains("listening on") && l.contains("/p2p/"))
        .unwrap_or_else(|| panic!("no listening line in:\n{stderr}"));
    line.rsplit("/p2p/").next().unwrap().trim().to_string()
}

#[test]
fn a_piped_script_prints_results_and_exit_sets_the_status() {
    let img = kernel_image();
    let out = pipe(
        img.path(),
        &[],
        "(host id)\n(+ 1 2)\n(def n 6)\n(* n\n 7)\n(+ 1 ))\n(str \"still \" \"here\")\n(exit 3)\n(println \"never\")\n",
    );
    assert_exit(&out, 3);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    let lines: Vec<&str> = stdout.lines().collect();
    let id = peer_id(&stderr);
    assert_eq!(lines[0], format!("\"{id}\""), "{stdout}");
    assert_eq!(lines[1], "3");
    // `def` persists across commands; a form may span lines.
    assert_eq!(lines[3], "42", "{stdout}");
    // A parse error is reported and the next command works.
    assert!(stderr.contains("error: syntax error"), "{stderr}");
    assert_eq!(lines[4], "\"still here\"", "{stdout}");
    // Nothing after (exit 3) ran.
    assert!(!stdout.contains("never"), "{stdout}");
}

#[test]
fn end_of_input_exits_zero_and_errors_do_not_stop_the_shell() {
    let img = kernel_image();
    let out = pipe(
        img.path(),
        &[],
        "(nope 1)\n(executor echo \"hi\")\n(host frobnicate)\n(call executor :echo {:message \"by name\"})\n",
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("unable to resolve symbol `nope`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("capability `host` has no method `frobnicate`"),
        "{stderr}"
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        ["\"hi\"", "\"by name\""]
    );
}

#[test]
fn identity_and_routing_are_values() {
    let img = kernel_image();
    let out = pipe(
        img.path(),
        &[],
        "(def s (identity signer \"shell-test\"))\n(s domain)\n(count (s sign #bytes \"01 02\" 1))\n\
         (= (s publicKey) (identity publicKey))\n(routing hash (bytes \"hello\"))\n",
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "#<cap signer>",
            "\"shell-test\"",
            // An Ed25519 signature: 64 bytes.
            "64",
            "true",
            // CIDv1 raw of sha2-256("hello").
            "\"bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq\"",
        ],
        "{}",
        text(&out.stderr)
    );
}

/// The lines of `stderr` that report errors, in order.
fn errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect()
}

#[test]
fn calls_are_checked_against_the_schema_types() {
    let img = kernel_image();
    let out = pipe(
        img.path(),
        &[],
        "(executor echo 42)\n\
         (executor echo)\n\
         (executor echo \"a\" \"b\")\n\
         (routing hash \"text\")\n\
         (executor spawn [\"/bin/hello.wasm\"] [] [] {} 1)\n\
         (executor spawn [\"/bin/hello.wasm\"] [] [42] {} \"/\")\n\
         (call executor :echo {:message true})\n\
         (call executor :echo {})\n\
         (:exitCode ((executor spawn [\"/bin/hello.wasm\"] [] [] {} \"/\") wait))\n\
         (:exitCode ((executor spawn [\"/bin/hello.wasm\"] [] [{:name \"executor\" :cap executor}] {:cpuMillis 0} \"/\") wait))\n\
         (executor echo \"still fine\")\n",
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert_eq!(
        errors(&stderr),
        [
            "error: executor.echo: `message` is Text: give a string, got int 42",
            "error: executor.echo: missing argument `message` :Text; it takes (message :Text)",
            "error: executor.echo: takes 1 argument (message :Text), got 2",
            "error: routing.hash: `data` is Data: give bytes, e.g. #bytes \"0a ff\" or \
             (bytes \"text\"), got string \"text\"",
            "error: executor.spawn: `root` is Text: give a string, got int 1",
            "error: executor.spawn: `caps[0]` is Export: give a capability, or a map of its \
             fields (name :Text, cap :Capability, schema :Node, types :List(Node)), got int 42",
            "error: executor.echo: `message` is Text: give a string, got bool true",
            "error: executor.echo: missing argument `message` :Text; it takes (message :Text)",
        ],
        "{stderr}"
    );
    // Empty lists of structs, a struct given as a map (fields left out
    // take their defaults), and a list of Export structs all go through.
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        ["0", "0", "\"still fine\""],
        "{stderr}"
    );
}

/// Spawns a child kernel with `caps` (the shell's spelling of the list)
/// and checks that it lists the executor under `name`, typed: it got the
/// schema with the capability (without it, its graft would fail).
fn assert_child_lists_the_executor(caps: &str, name: &str) {
    let img = kernel_image();
    let out = pipe(
        img.path(),
        &[],
        &format!(
            "(def p (executor spawn [\"/boot/main.wasm\"] [] {caps} {{}} \"/\"))\n\
             ((p stdin) close)\n\
             (def out (p stdout))\n\
             (loop [acc \"\"] (let [chunk (utf8 (out read 65536))] \
               (if (= chunk \"\") (println acc) (recur (str acc chunk)))))\n\
             (:exitCode (p wait))\n"
        ),
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "ww kernel: epoch 1, 1 capability\n  {name}  Executor\n    \
             echo(message :Text) -> (response :Text)\n"
        )),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.ends_with("\n0\n"), "{stdout}");
}

#[test]
fn a_capability_in_a_childs_caps_goes_with_its_schema() {
    assert_child_lists_the_executor("[executor]", "executor");
}

/// An Export given as a map of its fields without `:schema` goes with its
/// capability's schema, filled in by the shell, under the map's name.
#[test]
fn an_export_map_without_a_schema_goes_with_its_capabilitys_schema() {
    assert_child_lists_the_executor("[{:name \"runner\" :cap executor}]", "runner");
}

#[test]
fn caps_doc_and_help_show_the_types() {
    let img = kernel_image();
    let out = pipe(
        img.path(),
        &[],
        "(caps)\n(println (doc executor))\n(help)\n",
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let spawn = "spawn(args :List(Text), env :List(Text), caps :List(Export), limits :Limits, \
                 root :Text) -> (process :Process)";
    // (caps), (doc executor) and (help) each show it.
    assert_eq!(stdout.matches(spawn).count(), 3, "{stdout}");
    assert!(
        stdout.contains("  executor  Executor\n    echo(message :Text) -> (response :Text)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "capability `executor`; methods:\n  echo(message :Text) -> (response :Text)\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("#bytes \"0a ff\""), "{stdout}");
}

#[test]
fn data_prints_as_bytes_whatever_it_holds() {
    let img = kernel_image();
    let data = tempfile::tempdir().unwrap();
    let out = pipe(
        img.path(),
        &["--data-dir", data.path().to_str().unwrap()],
        "(ipfs cat (ipfs add (bytes \"0xab\") nil))\n\
         (ipfs cat (ipfs add #bytes \"ab\" nil))\n\
         (utf8 (ipfs cat (ipfs add (bytes \"0xab\") nil)))\n\
         (count (identity publicKey))\n\
         (type (identity publicKey))\n",
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "#bytes \"30 78 61 62\"",
            "#bytes \"ab\"",
            "\"0xab\"",
            "32",
            ":bytes"
        ],
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn several_forms_on_a_line_each_print_their_value() {
    let img = kernel_image();
    let out = pipe(img.path(), &[], "(+ 1 1) (+ 2 2)\n(+ 3 3) (nope) (+ 4 4)\n");
    assert_exit(&out, 0);
    assert_eq!(
        text(&out.stdout).lines().collect::<Vec<_>>(),
        ["2", "4", "6", "8"]
    );
    assert!(text(&out.stderr).contains("unable to resolve symbol `nope`"));
}

#[test]
fn ipfs_cat_ls_and_add_reach_the_unixfs_facet() {
    let img = kernel_image();
    // A directory pushed into the node's store beforehand, to list.
    let data = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("a.txt"), "A").unwrap();
    std::fs::create_dir(tree.path().join("sub")).unwrap();
    std::fs::write(tree.path().join("sub/b.txt"), "B").unwrap();
    let dir = crate::ipfs::push(tree.path(), data.path());
    let script = format!(
        "(def c (ipfs add (bytes \"hello from the shell\") nil))\n\
         (utf8 (ipfs cat (str \"/ipfs/\" c)))\n\
         (= (ipfs cat c) ((ipfs unixfs) cat c))\n\
         (map :name (ipfs ls \"/ipfs/{dir}\"))\n\
         (map :isDirectory (ipfs ls \"/ipfs/{dir}\"))\n\
         (ipfs cat \"/ipfs/{dir}/sub/b.txt\")\n\
         (ipfs frobnicate)\n(caps)\n"
    );
    let out = pipe(
        img.path(),
        &["--data-dir", data.path().to_str().unwrap()],
        &script,
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    let lines: Vec<&str> = stdout.lines().collect();
    // `def` shows the CID it bound: CIDv0, as `ipfs add` makes by default.
    assert!(
        lines.first().is_some_and(|l| l.starts_with("\"Qm")),
        "{stdout}"
    );
    assert_eq!(
        lines[1..6],
        [
            "\"hello from the shell\"",
            "true",
            "(\"a.txt\" \"sub\")",
            "(false true)",
            // Data is bytes, whatever it holds.
            "#bytes \"42\"",
        ],
        "{stderr}"
    );
    // `(caps)` describes the facet's methods by the facet's interface.
    assert!(
        stdout.contains("cat(path :Text) -> (data :Data), through unixfs"),
        "{stdout}"
    );
    // An unknown method names what the capability has, facets included.
    let unknown = stderr
        .lines()
        .find(|l| l.contains("frobnicate"))
        .unwrap_or_else(|| panic!("no error for frobnicate:\n{stderr}"));
    for method in ["unixfs", "pin", "cat", "ls", "add"] {
        assert!(unknown.contains(method), "{unknown}");
    }
}

#[test]
fn an_unknown_command_runs_from_path_as_a_child_cell() {
    let img = kernel_image();
    let out = pipe(
        img.path(),
        &[],
        "(hello \"a\" \"b c\")\n(cd \"bin\")\n(pwd)\n(cd \"/nowhere\")\n(pwd)\n",
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(
        stdout.contains("hello from a cell\nargs: a b c\n"),
        "{stdout}\n{stderr}"
    );
    assert!(stdout.contains("\"/bin\"\n\"/bin\"\n"), "{stdout}");
    assert!(stderr.contains("cd: no directory /nowhere"), "{stderr}");
}

#[test]
fn init_scripts_run_in_name_order_and_a_failing_one_does_not_stop_the_rest() {
    let img = kernel_image();
    let init = img.path().join("etc/init.d");
    std::fs::create_dir_all(&init).unwrap();
    std::fs::write(
        init.join("30-third.glia"),
        "(println \"third\") (def from-init 7)",
    )
    .unwrap();
    std::fs::write(init.join("10-first.glia"), "(println \"first\")").unwrap();
    std::fs::write(
        init.join("20-broken.glia"),
        "(println \"second\") (no-such-fn)",
    )
    .unwrap();
    std::fs::write(init.join("README"), "(println \"not a script\")").unwrap();
    let out = pipe(img.path(), &[], "(* from-init 6)\n");
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(stdout, "first\nsecond\nthird\n42\n", "{stderr}");
    assert!(
        stderr.contains(
            "init: /etc/init.d/20-broken.glia: error: unable to resolve symbol `no-such-fn`"
        ),
        "{stderr}"
    );
}

#[test]
fn a_third_party_capability_is_listed_and_called_through_its_schema() {
    let img = kernel_image();
    let provider = plugin("ww_test_provider_panicky");
    let provider = provider.to_str().unwrap();
    let out = pipe(
        img.path(),
        &["--provider", provider],
        "(caps)\n(call fixture :ping {:n 41})\n(fixture ping 1)\n(fixture ping -1)\n\
         (fixture reflect executor)\n((fixture reflect executor) echo \"round trip\")\n",
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(
        stdout.contains(
            "  fixture   Fixture\n    ping(n :UInt32) -> (n :UInt32)\n    panic() -> ()\n    \
             reflect(cap :Capability) -> (cap :Capability)\n"
        ),
        "{stdout}"
    );
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with("ww kernel"))
        .collect();
    assert_eq!(lines[0], "42", "{stdout}");
    assert_eq!(lines[1], "2", "{stdout}");
    // A value out of the field's range is refused before the call.
    assert!(stderr.contains("-1 is out of range"), "{stderr}");
    // A capability passed through comes back as a value (untyped: AnyPointer).
    assert_eq!(lines[2], "#<cap cap>", "{stdout}");
    assert!(stderr.contains("has no method `echo`"), "{stderr}");
}

#[test]
fn the_shell_grafts_again_when_the_epoch_ends() {
    let img = kernel_image();
    let mut cmd = ww_run(&ww());
    cmd.arg("--revoke-on-hup").arg(img.path());
    let mut node = Running::start(&mut cmd);
    node.send_line("(println \"ready\")");
    node.wait_for(Stream::Stdout, "ready");
    kill(node.pid(), libc::SIGHUP);
    node.wait_for(Stream::Stderr, "epoch advanced");
    // The first call after the advance fails and the shell grafts again ...
    node.send_line("(executor echo \"stale\")");
    node.wait_for(Stream::Stderr, "grafted again (epoch 2)");
    // ... so the next one works.
    node.send_line("(executor echo \"fresh\")");
    node.wait_for(Stream::Stdout, "fresh");
    let (status, stdout, stderr) = node.finish();
    assert!(status.success(), "{stderr:?}");
    assert!(!stdout.iter().any(|l| l.contains("stale")), "{stdout:?}");
    assert!(
        stderr.iter().any(|l| l.contains("staleEpoch")),
        "{stderr:?}"
    );
}

#[test]
fn with_stdin_closed_the_kernel_serves_its_services_as_a_daemon() {
    let img = kernel_image();
    let svc = img.path().join("svc/greeter/boot");
    std::fs::create_dir_all(&svc).unwrap();
    std::fs::copy(guest("hello"), svc.join("main.wasm")).unwrap();
    let mut cmd = ww_run(&ww());
    cmd.arg(img.path());
    let mut node = Running::start(&mut cmd);
    node.close_stdin();
    node.wait_for(Stream::Stdout, "greeter: hello from a cell");
    // Still up after its service ended: stop it.
    kill(node.pid(), libc::SIGTERM);
    let (status, _, stderr) = node.finish();
    assert_eq!(
        status.code(),
        None,
        "killed by the signal, not exited: {stderr:?}"
    );
}
