//! Provider configuration: a value a provider refuses at start is the
//! operator's to change (status 2), whether the provider is built in or a
//! library; the node key is chosen one way only.

use ww_tests::*;

/// `ww run` with `args` before the kernel image.
fn run(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let kernel = image("kernel");
    output(ww_run(&ww()).args(args).arg(kernel.path()))
}

#[test]
fn a_value_a_provider_refuses_exits_2_naming_the_key_built_in_or_library() {
    let library = plugin("ww_executor");
    let config = ["--config".as_ref(), "max-children=lots".as_ref()];
    let loaded = ["--provider".as_ref(), library.as_os_str()];
    for (how, out) in [
        ("built in", run(&config)),
        ("a library", run(&[&loaded[..], &config[..]].concat())),
    ] {
        let stderr = text(&out.stderr);
        assert_exit(&out, 2);
        assert_no_panic(&stderr);
        assert!(
            stderr.contains(
                "it refused its configuration `max-children`: `lots` is not a whole number"
            ),
            "{how}: {stderr}"
        );
        assert!(
            stderr.contains("give `max-children` a valid value (--config max-children=VALUE"),
            "{how}: {stderr}"
        );
        assert!(text(&out.stdout).is_empty(), "{how}: pid0 did not run");
    }
}

#[test]
fn a_node_key_given_with_config_is_refused_pointing_at_identity() {
    let out = run(&["--config".as_ref(), "identity=not a key".as_ref()]);
    let stderr = text(&out.stderr);
    assert_exit(&out, 2);
    assert_no_panic(&stderr);
    assert!(
        stderr.contains("--config identity: providers receive the node key"),
        "{stderr}"
    );
    assert!(stderr.contains("--identity PATH"), "{stderr}");
    assert!(stderr.contains("ww keygen"), "{stderr}");
    assert!(text(&out.stdout).is_empty(), "pid0 did not run");
}
