//! Trimmed builds. The minimal `ww` (`--no-default-features --features
//! compiler`): the kernel, the CLI and `--provider` loading. It boots an
//! image, and every command or flag whose feature it lacks exits 2 naming
//! that feature. The runtime-only `ww` (`--no-default-features`) links no
//! compiler: it runs what `ww compile` put in a compile cache and refuses
//! the rest.

use std::process::Command;

use ww_tests::*;

#[test]
fn a_runtime_only_ww_runs_what_ww_compile_precompiled_and_refuses_the_rest() {
    let cache = tempfile::tempdir().expect("tempdir");
    let img = image("hello");
    // Not compiled yet: refused, with the way out, as not executable.
    let out = output(ww_run_with_cache(&ww_runtime(), cache.path()).arg(img.path()));
    assert_exit(&out, 126);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("is not precompiled for this engine"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`ww compile IMAGE --cache-dir DIR`"),
        "{stderr}"
    );

    // A full ww compiles the image into the cache; the runtime-only one runs it.
    let out = output(
        Command::new(ww())
            .arg("compile")
            .arg(img.path())
            .arg("--cache-dir")
            .arg(cache.path()),
    );
    assert_exit(&out, 0);
    assert!(
        text(&out.stderr).contains("compiled boot/main.wasm"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(artefacts(cache.path()).len(), 1);
    let out = output(ww_run_with_cache(&ww_runtime(), cache.path()).arg(img.path()));
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("hello from a cell"),
        "{}",
        text(&out.stdout)
    );

    // An artefact Wasmtime does not accept (damaged, or made for another
    // engine) is refused, never run.
    let artefact = &artefacts(cache.path())[0];
    let bytes = std::fs::read(artefact).expect("read the artefact");
    std::fs::write(artefact, &bytes[..bytes.len() / 2]).expect("damage it");
    let out = output(ww_run_with_cache(&ww_runtime(), cache.path()).arg(img.path()));
    assert_exit(&out, 126);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("not running it (this ww cannot compile)"),
        "{stderr}"
    );
    assert!(!text(&out.stdout).contains("hello from a cell"), "{stderr}");

    // And it cannot compile.
    let out = output(Command::new(ww_runtime()).arg("compile").arg(img.path()));
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains("`ww compile` needs the `compiler` feature"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn minimal_ww_boots_hello() {
    let img = image("hello");
    let out = output(ww_run(&ww_minimal()).arg(img.path()));
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("hello from a cell"), "{stdout}");
}

#[test]
fn minimal_ww_names_the_feature_each_left_out_part_needs() {
    let img = image("hello");
    let dir = img.path().to_str().expect("a UTF-8 temp path");
    let cases: [(&[&str], &str, &str); 7] = [
        (
            &["shell", "--identity", "id.key", "/ip4/127.0.0.1/tcp/1"],
            "`ww shell`",
            "shell",
        ),
        (&["run", "--mcp", dir], "--mcp", "mcp"),
        (&["run", "--stem", "0x01", dir], "--stem", "stem"),
        (&["push", dir], "`ww push`", "ipfs"),
        (&["check", "--data-dir", dir], "`ww check`", "ipfs"),
        (
            &["push", "--stem", "0x01", "--private-key-file", "k", dir],
            "`ww push`",
            "ipfs",
        ),
        (
            &["push", "--ipfs-url", "http://127.0.0.1:1", dir],
            "`ww push`",
            "ipfs",
        ),
    ];
    for (args, what, feature) in cases {
        let out = output(Command::new(ww_minimal()).args(args));
        assert_exit(&out, 2);
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(&format!("{what} needs the `{feature}` feature")),
            "ww {args:?}: {stderr}"
        );
        assert!(stderr.contains("built without it"), "{stderr}");
    }
}

#[test]
fn providers_lists_the_features_each_build_has() {
    let out = output(Command::new(ww_minimal()).arg("providers"));
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("features: compiler)"),
        "{}",
        text(&out.stdout)
    );
    let out = output(Command::new(ww_runtime()).arg("providers"));
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("features: (none)"),
        "{}",
        text(&out.stdout)
    );
    let out = output(Command::new(ww()).arg("providers"));
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .contains("features: compiler cross pulley guest-debug identity host routing executor ipfs kubo stem shell mcp"),
        "{stdout}"
    );
}

/// The trimmed builds' dependency graphs, from the lock file: none of the
/// network, chain, HTTP or front-end stacks, and no Cranelift in the
/// runtime-only one.
#[test]
fn trimmed_builds_link_no_network_chain_http_mcp_or_compiler_crate() {
    let tree = |features: &[&str]| -> Vec<String> {
        let out = output(
            Command::new(env!("CARGO"))
                .current_dir(ww_tests::anvil::workspace())
                .args(["tree", "--offline", "-p", "ww", "--no-default-features"])
                .args(features)
                .args(["-e", "normal", "--prefix", "none", "--format", "{p}"]),
        );
        assert_exit(&out, 0);
        text(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    };
    let banned = [
        "libp2p",
        "alloy",
        "reqwest",
        "hyper",
        "rmcp",
        "rustyline",
        "ww-stem",
        "ww-host",
        "ww-ipfs",
    ];
    let minimal = tree(&["--features", "compiler"]);
    assert!(minimal.iter().any(|n| n == "ww-core"), "{minimal:?}");
    assert!(
        minimal.iter().any(|n| n == "cranelift-codegen"),
        "{minimal:?}"
    );
    let runtime = tree(&[]);
    for name in banned {
        assert!(
            !minimal.iter().any(|n| n == name),
            "the minimal ww links {name}"
        );
    }
    for name in banned
        .iter()
        .chain(&["cranelift-codegen", "wasmtime-internal-cranelift"])
    {
        assert!(
            !runtime.iter().any(|n| n == name),
            "the runtime-only ww links {name}"
        );
    }
}
