//! Signing and verifying through the capnp clients, as a guest would.

use std::collections::BTreeMap;

use capnp::capability::FromClientHook;
use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use ww_capnp::identity_capnp::{identity, signer};
use ww_provider_sdk::{Context, Error, Provider};

use crate::{provider, signed_bytes};

fn run<F: std::future::Future>(f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tokio::task::LocalSet::new().block_on(&rt, f)
}

fn pem() -> String {
    let key = SigningKey::generate(&mut rand_core::OsRng);
    key.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string()
}

async fn start_with(config: BTreeMap<String, String>) -> Result<identity::Client, Error> {
    let exports = provider().start(Context::new(config, Vec::new())).await?;
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0].name, "identity");
    Ok(identity::Client::new(exports[0].cap.hook.add_ref()))
}

async fn start() -> identity::Client {
    start_with(BTreeMap::from([("identity".to_string(), pem())]))
        .await
        .expect("identity starts")
}

async fn signer_for(id: &identity::Client, domain: &str) -> capnp::Result<signer::Client> {
    let mut req = id.signer_request();
    req.get().set_domain(domain);
    req.send().promise.await?.get()?.get_signer()
}

async fn sign(s: &signer::Client, nonce: &[u8], seq: u64) -> Vec<u8> {
    let mut req = s.sign_request();
    req.get().set_nonce(nonce);
    req.get().set_epoch_seq(seq);
    let resp = req.send().promise.await.unwrap();
    resp.get().unwrap().get_signature().unwrap().to_vec()
}

async fn verify(id: &identity::Client, data: &[u8], sig: &[u8], key: &[u8]) -> bool {
    let mut req = id.verify_request();
    req.get().set_data(data);
    req.get().set_signature(sig);
    req.get().set_public_key(key);
    req.send().promise.await.unwrap().get().unwrap().get_valid()
}

async fn public_key(id: &identity::Client) -> Vec<u8> {
    let resp = id.public_key_request().send().promise.await.unwrap();
    resp.get().unwrap().get_key().unwrap().to_vec()
}

#[test]
fn sign_verify_round_trip() {
    run(async {
        let id = start().await;
        let key = public_key(&id).await;
        assert_eq!(key.len(), 32);
        let s = signer_for(&id, "ww/login").await.unwrap();
        let domain = s.domain_request().send().promise.await.unwrap();
        assert_eq!(domain.get().unwrap().get_domain().unwrap(), "ww/login");
        let skey = s.public_key_request().send().promise.await.unwrap();
        assert_eq!(skey.get().unwrap().get_key().unwrap(), key.as_slice());

        let sig = sign(&s, b"nonce-1", 7).await;
        assert_eq!(sig.len(), 64);
        assert!(verify(&id, &signed_bytes("ww/login", b"nonce-1", 7), &sig, &key).await);
    });
}

#[test]
fn wrong_domain_nonce_or_epoch_fails_verification() {
    run(async {
        let id = start().await;
        let key = public_key(&id).await;
        let s = signer_for(&id, "ww/login").await.unwrap();
        let sig = sign(&s, b"nonce-1", 7).await;
        assert!(!verify(&id, &signed_bytes("ww/other", b"nonce-1", 7), &sig, &key).await);
        assert!(!verify(&id, &signed_bytes("ww/login", b"nonce-2", 7), &sig, &key).await);
        assert!(!verify(&id, &signed_bytes("ww/login", b"nonce-1", 8), &sig, &key).await);
        // Another node's key does not verify it either.
        let other = SigningKey::generate(&mut rand_core::OsRng);
        let other_key = other.verifying_key().to_bytes();
        assert!(
            !verify(
                &id,
                &signed_bytes("ww/login", b"nonce-1", 7),
                &sig,
                &other_key
            )
            .await
        );
    });
}

#[test]
fn signed_bytes_follow_the_schema() {
    let bytes = signed_bytes("d", b"n", 0x0102_0304_0506_0708);
    assert_eq!(bytes, b"d\0n\x01\x02\x03\x04\x05\x06\x07\x08");
}

#[test]
fn malformed_verify_inputs_are_false_not_errors() {
    run(async {
        let id = start().await;
        let key = public_key(&id).await;
        let s = signer_for(&id, "d").await.unwrap();
        let sig = sign(&s, b"n", 1).await;
        let data = signed_bytes("d", b"n", 1);
        assert!(!verify(&id, &data, &sig, &key[..31]).await, "short key");
        assert!(
            !verify(&id, &data, &sig[..63], &key).await,
            "short signature"
        );
        assert!(!verify(&id, &data, &[], &[]).await, "empty");
        assert!(
            !verify(&id, &data, &[0xff; 64], &key).await,
            "garbage signature"
        );
        // The all-ones encoding is not a valid curve point.
        assert!(!verify(&id, &data, &sig, &[0xff; 32]).await, "garbage key");
        // A request with no fields set at all.
        let resp = id.verify_request().send().promise.await.unwrap();
        assert!(!resp.get().unwrap().get_valid());
    });
}

#[test]
fn bad_domains_are_refused() {
    run(async {
        let id = start().await;
        let err = signer_for(&id, "").await.err().expect("empty domain fails");
        assert!(err.to_string().contains("empty"), "{err}");
        let err = signer_for(&id, "a\0b").await.err().expect("NUL fails");
        assert!(err.to_string().contains("NUL"), "{err}");
    });
}

#[test]
fn missing_or_bad_key_is_a_config_error() {
    run(async {
        let err = start_with(BTreeMap::new()).await.err().expect("no key");
        assert!(
            matches!(&err, Error::Config { key, .. } if key == "identity"),
            "{err:?}"
        );
        let bad = BTreeMap::from([("identity".to_string(), "not a key".to_string())]);
        let err = start_with(bad).await.err().expect("bad key");
        assert!(
            matches!(&err, Error::Config { key, .. } if key == "identity"),
            "{err:?}"
        );
        assert!(
            !err.to_string().contains("not a key"),
            "the value is not echoed: {err}"
        );
    });
}

#[test]
fn manifest_declares_the_export_and_required_key() {
    let m = provider().manifest();
    assert_eq!(m.name, "identity");
    assert_eq!(m.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(m.exports.len(), 1);
    assert_eq!(m.exports[0].name, "identity");
    assert_eq!(
        m.exports[0].audience,
        ww_provider_sdk::manifest::Audience::Guests
    );
    assert!(m.requires.is_empty());
    assert_eq!(m.config.len(), 1);
    assert!(m.config[0].required && m.config[0].key == "identity");
}
