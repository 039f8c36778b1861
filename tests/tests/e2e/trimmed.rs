//! The minimal `ww` (`--no-default-features`): the kernel, the CLI and
//! `--provider` loading. It boots an image, and every command or flag whose
//! feature it lacks exits 2 naming that feature.

use std::process::Command;

use ww_tests::*;

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
    let cases: [(&[&str], &str, &str); 6] = [
        (
            &["shell", "--identity", "id.key", "/ip4/127.0.0.1/tcp/1"],
            "`ww shell`",
            "shell",
        ),
        (&["run", "--mcp", dir], "--mcp", "mcp"),
        (&["run", "--stem", "0x01", dir], "--stem", "stem"),
        (&["push", dir], "`ww push`", "ipfs"),
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
        text(&out.stdout).contains("features: (none)"),
        "{}",
        text(&out.stdout)
    );
    let out = output(Command::new(ww()).arg("providers"));
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("features: identity host routing executor ipfs kubo stem shell mcp"),
        "{stdout}"
    );
}

/// The minimal build's dependency graph, from the lock file: none of the
/// network, chain, HTTP or front-end stacks.
#[test]
fn minimal_ww_links_no_network_chain_http_or_mcp_crate() {
    let out = output(
        Command::new(env!("CARGO"))
            .current_dir(ww_tests::anvil::workspace())
            .args(["tree", "--offline", "-p", "ww", "--no-default-features"])
            .args(["-e", "normal", "--prefix", "none", "--format", "{p}"]),
    );
    assert_exit(&out, 0);
    let tree = text(&out.stdout);
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.contains(&"ww-core"), "{tree}");
    for banned in [
        "libp2p",
        "alloy",
        "reqwest",
        "hyper",
        "rmcp",
        "rustyline",
        "ww-stem",
        "ww-host",
        "ww-ipfs",
    ] {
        assert!(
            !names.contains(&banned),
            "the minimal ww links {banned}:\n{tree}"
        );
    }
}
