//! Logins against the real identity provider's signers, and signers that
//! replay or sign for an old epoch.

use std::rc::Rc;

use ed25519_dalek::SigningKey;
use ww_capnp::identity_capnp::{identity, signer};
use ww_capnp::membrane_capnp::{membrane, terminal};
use ww_identity::identity::IdentityImpl;

use super::*;
use crate::membrane::MembraneServer;

fn run<F: std::future::Future<Output = ()>>(f: F) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&rt, f);
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

async fn signer_for(key: &SigningKey, domain: &str) -> signer::Client {
    let identity: identity::Client = capnp_rpc::new_client(IdentityImpl::new(key.clone()));
    let mut request = identity.signer_request();
    request.get().set_domain(domain);
    let reply = request.send().promise.await.unwrap();
    reply.get().unwrap().get_signer().unwrap()
}

fn terminal_for(allowed: &SigningKey, epochs: &Rc<Epochs>) -> terminal::Client<membrane::Owned> {
    let budget =
        crate::rpc_budget::CellBudget::new("test", crate::rpc_budget::RpcLimits::default());
    let membrane = MembraneServer::new(Vec::new(), epochs.clone(), budget).into_client();
    TerminalServer::new(membrane, vec![allowed.verifying_key()], epochs.clone()).into_client()
}

async fn login(
    terminal: &terminal::Client<membrane::Owned>,
    signer: signer::Client,
) -> Result<membrane::Client, String> {
    let mut request = terminal.login_request();
    request.get().set_signer(signer);
    let reply = request.send().promise.await.map_err(|e| e.to_string())?;
    let session = reply.get().map_err(|e| e.to_string())?.get_session();
    session.map_err(|e| e.to_string())
}

#[test]
fn the_right_key_logs_in_and_gets_a_working_membrane() {
    run(async {
        let epochs = Rc::new(Epochs::new());
        let node = key(1);
        let terminal = terminal_for(&node, &epochs);
        let session = login(&terminal, signer_for(&node, DOMAIN).await)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let reply = session.epoch_request().send().promise.await.unwrap();
        assert_eq!(reply.get().unwrap().get_epoch().unwrap().get_seq(), 1);
        // Every login gets a fresh challenge: the same signer logs in again.
        login(&terminal, signer_for(&node, DOMAIN).await)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    });
}

#[test]
fn a_key_that_is_not_allowed_is_refused() {
    run(async {
        let epochs = Rc::new(Epochs::new());
        let terminal = terminal_for(&key(1), &epochs);
        let err = login(&terminal, signer_for(&key(2), DOMAIN).await)
            .await
            .err()
            .expect("refused");
        assert!(err.contains("is not allowed on this terminal"), "{err}");
    });
}

#[test]
fn a_signer_for_another_domain_is_refused() {
    run(async {
        let epochs = Rc::new(Epochs::new());
        let node = key(1);
        let terminal = terminal_for(&node, &epochs);
        let err = login(&terminal, signer_for(&node, "chat").await)
            .await
            .err()
            .expect("refused");
        assert!(err.contains("does not verify for this challenge"), "{err}");
    });
}

/// An attacker's signer: it saw one signature by the real signer and
/// answers every later challenge with it.
struct Replaying {
    real: signer::Client,
    captured: Rc<RefCell<Option<Vec<u8>>>>,
}

impl signer::Server for Replaying {
    async fn sign(
        self: Rc<Self>,
        params: signer::SignParams,
        mut results: signer::SignResults,
    ) -> Result<(), Error> {
        if let Some(old) = self.captured.borrow().clone() {
            results.get().set_signature(&old);
            return Ok(());
        }
        let params = params.get()?;
        let mut request = self.real.sign_request();
        request.get().set_nonce(params.get_nonce()?);
        request.get().set_epoch_seq(params.get_epoch_seq());
        let reply = request.send().promise.await?;
        let signature = reply.get()?.get_signature()?.to_vec();
        results.get().set_signature(&signature);
        *self.captured.borrow_mut() = Some(signature);
        Ok(())
    }

    fn public_key(
        self: Rc<Self>,
        _: signer::PublicKeyParams,
        mut results: signer::PublicKeyResults,
    ) -> impl std::future::Future<Output = Result<(), Error>> + 'static {
        let request = self.real.public_key_request();
        async move {
            let reply = request.send().promise.await?;
            results.get().set_key(reply.get()?.get_key()?);
            Ok(())
        }
    }
}

#[test]
fn a_replayed_signature_is_refused_as_a_replay() {
    run(async {
        let epochs = Rc::new(Epochs::new());
        let node = key(1);
        let terminal = terminal_for(&node, &epochs);
        let replaying: signer::Client = capnp_rpc::new_client(Replaying {
            real: signer_for(&node, DOMAIN).await,
            captured: Rc::default(),
        });
        login(&terminal, replaying.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let err = login(&terminal, replaying).await.err().expect("refused");
        assert!(err.contains("a replayed nonce"), "{err}");
    });
}

/// A signer that signs for the epoch before the one it is asked for.
struct Lagging {
    real: signer::Client,
}

impl signer::Server for Lagging {
    fn sign(
        self: Rc<Self>,
        params: signer::SignParams,
        mut results: signer::SignResults,
    ) -> impl std::future::Future<Output = Result<(), Error>> + 'static {
        let mut request = self.real.sign_request();
        let prepared = params.get().and_then(|p| {
            request.get().set_nonce(p.get_nonce()?);
            request.get().set_epoch_seq(p.get_epoch_seq() - 1);
            Ok(())
        });
        async move {
            prepared?;
            let reply = request.send().promise.await?;
            results.get().set_signature(reply.get()?.get_signature()?);
            Ok(())
        }
    }

    fn public_key(
        self: Rc<Self>,
        _: signer::PublicKeyParams,
        mut results: signer::PublicKeyResults,
    ) -> impl std::future::Future<Output = Result<(), Error>> + 'static {
        let request = self.real.public_key_request();
        async move {
            let reply = request.send().promise.await?;
            results.get().set_key(reply.get()?.get_key()?);
            Ok(())
        }
    }
}

#[test]
fn a_signature_for_an_older_epoch_is_refused_as_stale() {
    run(async {
        let epochs = Rc::new(Epochs::new());
        epochs.advance(Vec::new());
        let node = key(1);
        let terminal = terminal_for(&node, &epochs);
        let lagging: signer::Client = capnp_rpc::new_client(Lagging {
            real: signer_for(&node, DOMAIN).await,
        });
        let err = login(&terminal, lagging).await.err().expect("refused");
        assert!(
            err.contains("signed for epoch 1, but the current epoch is 2"),
            "{err}"
        );
    });
}

/// A signer that is slow enough for the epoch to end before it answers.
struct Outlived {
    real: signer::Client,
    epochs: Rc<Epochs>,
}

impl signer::Server for Outlived {
    fn sign(
        self: Rc<Self>,
        params: signer::SignParams,
        mut results: signer::SignResults,
    ) -> impl std::future::Future<Output = Result<(), Error>> + 'static {
        self.epochs.advance(Vec::new());
        let mut request = self.real.sign_request();
        let prepared = params.get().and_then(|p| {
            request.get().set_nonce(p.get_nonce()?);
            request.get().set_epoch_seq(p.get_epoch_seq());
            Ok(())
        });
        async move {
            prepared?;
            let reply = request.send().promise.await?;
            results.get().set_signature(reply.get()?.get_signature()?);
            Ok(())
        }
    }

    fn public_key(
        self: Rc<Self>,
        _: signer::PublicKeyParams,
        mut results: signer::PublicKeyResults,
    ) -> impl std::future::Future<Output = Result<(), Error>> + 'static {
        let request = self.real.public_key_request();
        async move {
            let reply = request.send().promise.await?;
            results.get().set_key(reply.get()?.get_key()?);
            Ok(())
        }
    }
}

#[test]
fn an_epoch_that_ends_during_login_refuses_it() {
    run(async {
        let epochs = Rc::new(Epochs::new());
        let node = key(1);
        let terminal = terminal_for(&node, &epochs);
        let outlived: signer::Client = capnp_rpc::new_client(Outlived {
            real: signer_for(&node, DOMAIN).await,
            epochs: epochs.clone(),
        });
        let err = login(&terminal, outlived).await.err().expect("refused");
        assert!(err.contains("the epoch advanced from 1 to 2"), "{err}");
    });
}

#[test]
fn the_challenge_is_what_the_identity_signer_signs() {
    assert_eq!(
        challenge_bytes(b"nonce", 7),
        ww_identity::signed_bytes(DOMAIN, b"nonce", 7)
    );
}
