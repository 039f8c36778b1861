use ww_tests::*;

#[test]
fn a_kernel_that_is_not_wasm_is_not_executable() {
    let img = image_from_bytes(b"#!/bin/sh\necho hi\n");
    let out = output(ww_run(&ww()).arg(img.path()));
    assert_exit(&out, 126);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert!(stderr.contains("not a WebAssembly file"), "{stderr}");
}

#[test]
fn a_truncated_component_is_not_executable() {
    let wasm = std::fs::read(guest("hello")).unwrap();
    let img = image_from_bytes(&wasm[..wasm.len() / 3]);
    let out = output(ww_run(&ww()).arg("--no-cache").arg(img.path()));
    assert_exit(&out, 126);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert!(stderr.contains("not a valid component"), "{stderr}");
}

#[test]
fn a_missing_kernel_names_every_layer() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let out = output(ww_run(&ww()).arg(a.path()).arg(b.path()));
    assert_exit(&out, 127);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("boot/main.wasm"), "{stderr}");
    assert!(stderr.contains(&a.path().display().to_string()), "{stderr}");
    assert!(stderr.contains(&b.path().display().to_string()), "{stderr}");
}

#[test]
fn a_missing_layer_is_named() {
    let out = output(ww_run(&ww()).arg("/no/such/layer"));
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("/no/such/layer"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_malformed_rpc_frame_from_a_guest_closes_its_vat_not_the_host() {
    let img = image("garbage");
    let out = output(ww_run(&ww()).arg(img.path()));
    // The guest saw its connection closed and exited with its own status.
    assert_exit(&out, 3);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert!(stderr.contains("broke its RPC connection"), "{stderr}");
    assert!(
        text(&out.stdout).contains("host closed the vat"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn bad_usage_is_refused_with_a_hint() {
    let img = image("hello");
    let out = output(ww_run(&ww()).args(["--env", "=x"]).arg(img.path()));
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("KEY=VALUE"));
    let out = output(ww_run(&ww()).args(["--config", "novalue"]).arg(img.path()));
    assert_exit(&out, 2);
}

#[test]
fn a_log_filter_ww_cannot_read_is_said_once_and_the_default_used() {
    let img = image("hello");
    let out = output(
        ww_run(&ww())
            .env("RUST_LOG", "ww_core=loud")
            .arg(img.path()),
    );
    assert_exit(&out, 0);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert_eq!(
        stderr
            .matches("RUST_LOG=\"ww_core=loud\" is not a list")
            .count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("using `warn,ww=info,ww_core=info`"),
        "{stderr}"
    );
}
