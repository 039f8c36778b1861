//! Another architecture. `scripts/test.sh` cross-builds the minimal `ww`
//! (`--no-default-features --features compiler`) and the identity provider
//! library for `aarch64-unknown-linux-gnu`; these tests run them under
//! `qemu-aarch64` (Debian's qemu-user) with Debian's aarch64 C library.
//! The aarch64 `ww` runs an image compiled for it on this host (`ww compile
//! --target`), compiles and runs one itself, and loads the aarch64
//! identity library to sign a challenge that is verified here; an x86_64
//! `ww` refuses both the aarch64 code and the aarch64 library, clearly.

use std::path::{Path, PathBuf};
use std::process::Command;

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use ww_tests::*;

const TRIPLE: &str = "aarch64-unknown-linux-gnu";
/// Where Debian's `libc6-arm64-cross` (with `gcc-aarch64-linux-gnu`) puts
/// the aarch64 loader and C library.
const SYSROOT: &str = "/usr/aarch64-linux-gnu";

/// The aarch64 build of `name` (a binary or library), built by
/// scripts/test.sh.
fn aarch64(name: &str) -> PathBuf {
    let profile = profile_dir();
    let path = profile
        .parent()
        .expect("target dir")
        .join(TRIPLE)
        .join(profile.file_name().expect("profile name"))
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/test.sh, which cross-builds it with `cargo build --target \
         {TRIPLE} -p ww --no-default-features --features compiler -p ww-identity` (needs Debian's \
         gcc-aarch64-linux-gnu, and qemu-user to run it)",
        path.display()
    );
    path
}

/// `qemu-aarch64 ww ARGS…` with the aarch64 C library.
fn qemu_ww() -> Command {
    let mut cmd = Command::new("qemu-aarch64");
    cmd.env("QEMU_LD_PREFIX", SYSROOT)
        .env_remove("WW_IDENTITY")
        .env_remove("WW_CACHE_DIR")
        .env("RUST_LOG", "warn,ww=info,ww_core=info")
        .arg(aarch64("ww"));
    cmd
}

/// `ww run --cache-dir CACHE` of the aarch64 ww, with one child slot:
/// qemu-user keeps state for every page of the address space the node
/// reserves for its instance pool, and the default pool (1000 cells) has
/// it grow past this machine's memory; a board does not pay that.
fn qemu_run(cache: &Path) -> Command {
    let mut cmd = qemu_ww();
    cmd.args(["run", "--max-cells", "1", "--cache-dir"])
        .arg(cache);
    cmd
}

/// This host's `ww compile --target aarch64-unknown-linux-gnu`.
fn compile_for_aarch64(img: &Path, cache: &Path) -> std::process::Output {
    output(
        Command::new(ww())
            .args(["compile", "--target", TRIPLE, "--cache-dir"])
            .arg(cache)
            .arg(img),
    )
}

#[test]
fn the_aarch64_ww_runs_an_image_this_host_compiled_for_it() {
    let cache = tempfile::tempdir().expect("tempdir");
    let img = image("hello");
    let out = compile_for_aarch64(img.path(), cache.path());
    assert_exit(&out, 0);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("compiled boot/main.wasm"), "{stderr}");
    assert!(
        stderr.contains(&format!("runtime-only ww on {TRIPLE}")),
        "{stderr}"
    );
    assert_eq!(artefacts(cache.path()).len(), 1);

    // The aarch64 ww loads it from the cache: nothing is compiled there.
    let out = output(
        qemu_run(cache.path())
            .env("RUST_LOG", "warn,ww_core::cache=debug")
            .arg(img.path()),
    );
    assert_hello(&out);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("compiled code from cache"), "{stderr}");
    assert_eq!(artefacts(cache.path()).len(), 1, "nothing new was compiled");

    // The same cache holds nothing this host's engine can run: artefacts
    // are keyed by their target.
    let out = output(
        Command::new(ww())
            .args(["compile", "--cache-dir"])
            .arg(cache.path())
            .arg(img.path()),
    );
    assert_exit(&out, 0);
    assert_eq!(
        artefacts(cache.path()).len(),
        2,
        "this host's code is stored beside the aarch64 code, not over it"
    );
}

#[test]
fn the_aarch64_ww_compiles_and_runs_an_image_itself() {
    let cache = tempfile::tempdir().expect("tempdir");
    let img = image("hello");
    let mut compile = qemu_ww();
    compile
        .args(["compile", "--cache-dir"])
        .arg(cache.path())
        .arg(img.path());
    let out = output(&mut compile);
    assert_exit(&out, 0);
    assert!(
        text(&out.stderr).contains("compiled boot/main.wasm"),
        "{}",
        text(&out.stderr)
    );
    let out = output(qemu_run(cache.path()).arg(img.path()));
    assert_hello(&out);
    // What it reports of itself: the minimal build's features and abi.
    let out = output(qemu_ww().arg("providers"));
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("features: compiler"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn the_aarch64_identity_library_signs_for_a_guest_on_the_aarch64_ww() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("id.key");
    let keygen = output(Command::new(ww()).args(["keygen", "--output"]).arg(&key));
    assert_exit(&keygen, 0);
    let public = hex::decode(text(&keygen.stdout).trim()).expect("hex key");

    let cache = tempfile::tempdir().expect("tempdir");
    let img = image("sign");
    assert_exit(&compile_for_aarch64(img.path(), cache.path()), 0);
    let nonce = b"aarch64-challenge";
    let out = output(
        qemu_run(cache.path())
            .arg("--provider")
            .arg(aarch64("libww_identity.so"))
            .arg("--identity")
            .arg(&key)
            .arg(img.path())
            .args(["--", &hex::encode(nonce), "e2e-aarch64"]),
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert_eq!(hex::decode(field(&stdout, "pubkey")).unwrap(), public);
    let epoch: u64 = field(&stdout, "epoch").parse().expect("epoch");
    let signature =
        Signature::from_slice(&hex::decode(field(&stdout, "signature")).unwrap()).unwrap();
    let key = VerifyingKey::from_bytes(public.as_slice().try_into().unwrap()).unwrap();
    key.verify(&signed_bytes("e2e-aarch64", nonce, epoch), &signature)
        .expect("the aarch64 provider's signature verifies here");
}

#[test]
fn this_host_refuses_aarch64_code_and_libraries_clearly() {
    // Running code for another machine is refused before anything starts.
    let img = image("hello");
    let out = output(ww_run(&ww()).args(["--target", TRIPLE]).arg(img.path()));
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert!(
        stderr.contains(&format!("code for {TRIPLE} cannot run on this")),
        "{stderr}"
    );

    // An aarch64 provider library: refused, naming it, nothing run.
    let library = aarch64("libww_identity.so");
    let kernel = image("kernel");
    let out = output(
        ww_run(&ww())
            .arg("--provider")
            .arg(&library)
            .arg(kernel.path()),
    );
    assert_ne!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert!(stderr.contains(&library.display().to_string()), "{stderr}");
    assert!(text(&out.stdout).is_empty(), "nothing ran");

    // A triple that names nothing.
    let out = output(
        Command::new(ww())
            .args(["compile", "--target", "armish", "--cache-dir"])
            .arg(tempfile::tempdir().expect("tempdir").path())
            .arg(img.path()),
    );
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains("`armish` is not a target triple"),
        "{}",
        text(&out.stderr)
    );
}
