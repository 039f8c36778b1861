//! Pulley, Wasmtime's portable interpreter. The default `ww` (whose
//! `cross` feature brings the `pulley` one) compiles an image for
//! `pulley64` and runs it interpreted, as a host without a Cranelift
//! backend runs everything; a build without the interpreter refuses
//! `--target pulley64`, naming the feature.

use std::process::Command;

use ww_tests::*;

#[test]
fn an_image_compiled_for_pulley_runs_in_the_interpreter() {
    let cache = tempfile::tempdir().expect("tempdir");
    let img = image("hello");
    let out = output(
        Command::new(ww())
            .args(["compile", "--target", "pulley64", "--cache-dir"])
            .arg(cache.path())
            .arg(img.path()),
    );
    assert_exit(&out, 0);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`ww run --target pulley64 --cache-dir"),
        "{stderr}"
    );
    assert_eq!(artefacts(cache.path()).len(), 1);

    let out = output(
        ww_run_with_cache(&ww(), cache.path())
            .args(["--target", "pulley64"])
            .env("RUST_LOG", "warn,ww_core::cache=debug")
            .arg(img.path()),
    );
    assert_hello(&out);
    assert!(
        text(&out.stderr).contains("compiled code from cache"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(artefacts(cache.path()).len(), 1, "nothing was recompiled");

    // Native code is another target: its artefact is stored beside the
    // Pulley one, which it never loads.
    let out = output(ww_run_with_cache(&ww(), cache.path()).arg(img.path()));
    assert_exit(&out, 0);
    assert_eq!(artefacts(cache.path()).len(), 2);
}

#[test]
fn a_node_on_pulley_compiles_what_it_lacks_for_pulley() {
    // Not precompiled: the node's compile worker compiles for the node's
    // target, not for the host.
    let cache = tempfile::tempdir().expect("tempdir");
    let img = image("hello");
    let out = output(
        ww_run_with_cache(&ww(), cache.path())
            .args(["--target", "pulley64"])
            .arg(img.path()),
    );
    assert_hello(&out);
    assert_eq!(artefacts(cache.path()).len(), 1);
    // The stored code is Pulley's: a runtime-only native ww has nothing to
    // run in that cache.
    let out = output(ww_run_with_cache(&ww_runtime(), cache.path()).arg(img.path()));
    assert_exit(&out, 126);
}

#[test]
fn a_ww_without_the_interpreter_refuses_pulley_naming_the_feature() {
    let img = image("hello");
    let out = output(
        ww_run(&ww_runtime())
            .args(["--target", "pulley64"])
            .arg(img.path()),
    );
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert!(stderr.contains("needs the `pulley` feature"), "{stderr}");
}
