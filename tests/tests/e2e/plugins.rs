use ww_tests::*;

#[test]
fn minimal_ww_has_no_builtin_providers() {
    let out = output(std::process::Command::new(ww_minimal()).arg("providers"));
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("identity"), "{stdout}");
    // And its kernel sees no capabilities at all.
    let kernel = image("kernel");
    let out = output(ww_run(&ww_minimal()).arg(kernel.path()));
    assert_exit(&out, 0);
    // No provider reads a node key, so none is made up.
    assert!(
        !text(&out.stderr).contains("ephemeral"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("0 capabilities"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn providers_command_describes_a_library() {
    let out = output(
        std::process::Command::new(ww())
            .arg("providers")
            .arg(plugin("ww_identity")),
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("identity 0.1.0"), "{stdout}");
    assert!(stdout.contains("exports   identity"), "{stdout}");
    assert!(stdout.contains("requires  -"), "{stdout}");
    assert!(stdout.contains("abi       ww-provider abi=1"), "{stdout}");
    // Identity needs the node key to start, so its methods are not listed.
    assert!(
        stdout.contains("methods   not listed: starting it needs config `identity`"),
        "{stdout}"
    );
}

#[test]
fn providers_command_lists_the_builtin_providers_methods_with_their_types() {
    let out = output(std::process::Command::new(ww()).arg("providers"));
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    for line in [
        "  methods of identity:\n",
        "  methods of host:\n",
        "  methods of routing:\n",
        "  methods of ipfs:\n",
        "  methods of executor:\n    echo(message :Text) -> (response :Text)\n",
        "    hash(data :Data) -> (",
    ] {
        assert!(stdout.contains(line), "{line:?} in:\n{stdout}");
    }
    assert!(!stdout.contains("not listed"), "{stdout}");
}

#[test]
fn providers_command_lists_a_librarys_methods_with_their_types() {
    let out = output(
        std::process::Command::new(ww())
            .arg("providers")
            .arg(plugin("ww_test_provider_panicky")),
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    for line in [
        "methods of fixture:",
        "    ping(n :UInt32) -> (n :UInt32)",
        "    panic() -> ()",
        "    reflect(cap :Capability) -> (cap :Capability)",
    ] {
        assert!(stdout.contains(line), "{line:?} in:\n{stdout}");
    }
}

#[test]
fn an_unknown_config_key_is_refused_before_anything_starts_naming_the_known_keys() {
    let kernel = image("kernel");
    let out = output(
        ww_run(&ww())
            .args(["--config", "ipfs-store-mx=5"])
            .arg(kernel.path()),
    );
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert!(stderr.contains("--config ipfs-store-mx"), "{stderr}");
    assert!(
        stderr.contains("`ipfs`: ") && stderr.contains("ipfs-store-max"),
        "each provider's keys are named: {stderr}"
    );
    assert!(text(&out.stdout).is_empty(), "pid0 did not run");
}

#[test]
fn a_provider_built_for_another_abi_is_refused_naming_both_sides() {
    let skewed = plugin("ww_test_provider_skewed");
    let kernel = image("kernel");
    for out in [
        output(
            ww_run(&ww())
                .arg("--provider")
                .arg(&skewed)
                .arg(kernel.path()),
        ),
        output(
            std::process::Command::new(ww())
                .arg("providers")
                .arg(&skewed),
        ),
    ] {
        assert_exit(&out, 2);
        let stderr = text(&out.stderr);
        assert_no_panic(&stderr);
        assert!(stderr.contains(&skewed.display().to_string()), "{stderr}");
        // Both sides of the mismatch are named.
        assert!(
            stderr.contains("0.0.1") && stderr.contains("0.1.0"),
            "{stderr}"
        );
        assert!(stderr.contains("1.80.0"), "{stderr}");
        assert!(text(&out.stdout).is_empty(), "nothing ran");
    }
}

#[test]
fn a_file_that_is_not_a_provider_is_refused() {
    let not_a_library = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(not_a_library.path(), "just text").unwrap();
    let kernel = image("kernel");
    let out = output(
        ww_run(&ww())
            .arg("--provider")
            .arg(not_a_library.path())
            .arg(kernel.path()),
    );
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert!(
        stderr.contains(&not_a_library.path().display().to_string()),
        "{stderr}"
    );
    let missing = output(
        ww_run(&ww())
            .args(["--provider", "/no/such/libww_x.so"])
            .arg(kernel.path()),
    );
    assert_exit(&missing, 2);
    assert!(text(&missing.stderr).contains("/no/such/libww_x.so"));
}

#[test]
fn a_plugin_replaces_the_builtin_that_exports_the_same_name() {
    let kernel = image("kernel");
    let out = output(
        ww_run(&ww())
            .arg("--provider")
            .arg(plugin("ww_identity"))
            .arg(kernel.path()),
    );
    assert_exit(&out, 0);
    assert!(text(&out.stderr).contains("replaces the built-in provider `identity`"));
    // Still exactly one identity capability.
    assert_eq!(
        text(&out.stdout).matches("Identity").count(),
        1,
        "{}",
        text(&out.stdout)
    );
}

/// The typed WIT door answers a library's capabilities as the built-ins'
/// (through Cap'n Proto, since a library's objects live on its own
/// thread), and the node says which ones take that path.
#[test]
fn wit_calls_on_a_librarys_capabilities_go_through_capnp_and_the_log_says_so() {
    let img = image("wit-doors");
    let out = output(
        ww_run(&ww())
            .arg("--provider")
            .arg(plugin("ww_identity"))
            .arg("--provider")
            .arg(plugin("ww_executor"))
            .arg(img.path()),
    );
    assert_exit(&out, 0);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    for call in ["identity.public-key", "executor.echo"] {
        assert!(
            stdout.lines().any(|l| l == format!("same {call}")),
            "{call} not the same through both doors:\n{stdout}"
        );
    }
    for export in ["identity", "executor"] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(&format!("export={export}"))
                    && l.contains("typed WIT calls on it go through Cap'n Proto")),
            "no word that {export}'s WIT calls take Cap'n Proto:\n{stderr}"
        );
    }
}

#[test]
fn a_panicking_provider_method_fails_that_call_and_the_host_keeps_serving() {
    let img = image("fixture");
    let mut node = Running::start(
        ww_run(&ww())
            .arg("--revoke-on-hup")
            .arg("--provider")
            .arg(plugin("ww_test_provider_panicky"))
            .arg(img.path()),
    );
    assert_eq!(node.wait_for(Stream::Stdout, "ping:"), "ping: 2");
    let panic = node.wait_for(Stream::Stdout, "panic:");
    assert!(panic.starts_with("panic: error"), "{panic}");
    assert!(
        panic.contains("panicked"),
        "the error says the provider panicked: {panic}"
    );
    assert_eq!(
        node.wait_for(Stream::Stdout, "ping-after-panic:"),
        "ping-after-panic: 3"
    );
    // A wrapped capability passed into a provider and returned is still
    // guarded: the membrane has no unwrapping hole.
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
    // The plugin's panic reaches the host's log (through the plugin's panic
    // hook and the forwarded tracing events), tagged with the provider.
    let logged = stderr
        .lines()
        .find(|l| l.contains("fixture panicked on purpose"))
        .unwrap_or_else(|| panic!("the panic was not logged:\n{stderr}"));
    assert!(
        logged.contains("ERROR") && logged.contains("provider"),
        "{logged}"
    );
}
