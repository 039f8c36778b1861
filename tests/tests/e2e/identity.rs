use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use ww_tests::*;

/// Runs the `sign` guest with `binary` and `extra` args, and checks its
/// signature against the key `ww keygen` printed.
fn signs_a_challenge(binary: &std::path::Path, extra: &[std::ffi::OsString]) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id.key");
    let keygen = output(
        std::process::Command::new(ww())
            .args(["keygen", "--output"])
            .arg(&key),
    );
    assert_exit(&keygen, 0);
    let public = hex::decode(text(&keygen.stdout).trim()).unwrap();

    let nonce = b"challenge-0123456789";
    let img = image("sign");
    let out = output(
        ww_run(binary)
            .arg("--identity")
            .arg(&key)
            .args(extra)
            .arg(img.path())
            .args(["--", &hex::encode(nonce), "e2e-test"]),
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert_eq!(
        hex::decode(field(&stdout, "pubkey")).unwrap(),
        public,
        "the node's key signs"
    );
    let epoch: u64 = field(&stdout, "epoch").parse().unwrap();
    let signature =
        Signature::from_slice(&hex::decode(field(&stdout, "signature")).unwrap()).unwrap();
    let key = VerifyingKey::from_bytes(public.as_slice().try_into().unwrap()).unwrap();
    key.verify(&signed_bytes("e2e-test", nonce, epoch), &signature)
        .expect("the signature verifies against the node's public key");
    // And not for another domain: the signer is bound to its domain.
    assert!(key
        .verify(&signed_bytes("other", nonce, epoch), &signature)
        .is_err());
}

#[test]
fn guest_signs_a_challenge_with_the_builtin_identity() {
    signs_a_challenge(&ww(), &[]);
}

#[test]
fn guest_signs_a_challenge_with_the_identity_plugin_on_a_minimal_ww() {
    signs_a_challenge(
        &ww_minimal(),
        &["--provider".into(), plugin("ww_identity").into_os_string()],
    );
}

#[test]
fn guest_signs_a_challenge_with_the_identity_process_on_a_minimal_ww() {
    // The same crate built as an executable (ww_provider_sdk::serve): the
    // node key reaches it through Plugin.start's config, over its socket.
    signs_a_challenge(
        &ww_minimal(),
        &[
            "--no-jail".into(),
            "--provider".into(),
            provider_program("ww-identity").into_os_string(),
        ],
    );
}

#[test]
fn identity_comes_from_the_environment_too() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id.key");
    let keygen = output(
        std::process::Command::new(ww())
            .args(["keygen", "-o"])
            .arg(&key),
    );
    assert_exit(&keygen, 0);
    let img = image("sign");
    let out = output(
        ww_run(&ww())
            .env("WW_IDENTITY", &key)
            .arg(img.path())
            .args(["--", "00", "env"]),
    );
    assert_exit(&out, 0);
    assert_eq!(
        field(&text(&out.stdout), "pubkey"),
        text(&keygen.stdout).trim()
    );
    assert!(!text(&out.stderr).contains("ephemeral"));
}

#[test]
fn keygen_refuses_to_overwrite_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id.key");
    assert_exit(
        &output(
            std::process::Command::new(ww())
                .args(["keygen", "-o"])
                .arg(&key),
        ),
        0,
    );
    let again = output(
        std::process::Command::new(ww())
            .args(["keygen", "-o"])
            .arg(&key),
    );
    assert_exit(&again, 1);
    assert!(
        text(&again.stderr).contains("--force"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn a_malformed_identity_key_is_refused() {
    let key = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key.path(), "-----BEGIN NOTHING-----").unwrap();
    let img = image("kernel");
    let out = output(
        ww_run(&ww())
            .arg("--identity")
            .arg(key.path())
            .arg(img.path()),
    );
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("ww keygen"),
        "{}",
        text(&out.stderr)
    );
}
