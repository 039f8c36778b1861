//! The proxy against tiny local servers of ww's own interfaces.

use std::cell::Cell;
use std::future::{ready, Future};
use std::rc::Rc;

use capnp::any_pointer;
use capnp::capability::FromClientHook;
use futures::executor::block_on;
use ww_capnp::identity_capnp::{identity, signer};
use ww_capnp::membrane_capnp::terminal;

use super::*;

/// Counts admitted calls; refuses all of them when `refuse` is set.
#[derive(Clone, Default)]
struct Counting {
    admits: Rc<Cell<u32>>,
    refuse: Rc<Cell<bool>>,
}

impl Policy for Counting {
    type Lease = ();

    fn admit(&self) -> Result<(), capnp::Error> {
        if self.refuse.get() {
            return Err(capnp::Error::failed("refused by policy".into()));
        }
        self.admits.set(self.admits.get() + 1);
        Ok(())
    }

    fn lease(&self) -> Result<(), capnp::Error> {
        Ok(())
    }

    fn guard(&self, call: CallFuture) -> CallFuture {
        call
    }
}

/// `publicKey` panics, `signer` returns a [`TestSigner`], `verify` is true.
struct TestIdentity;

impl identity::Server for TestIdentity {
    #[allow(unreachable_code)]
    fn public_key(
        self: Rc<Self>,
        _: identity::PublicKeyParams,
        _: identity::PublicKeyResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        panic!("boom");
        ready(Ok(()))
    }

    fn signer(
        self: Rc<Self>,
        params: identity::SignerParams,
        mut results: identity::SignerResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        let mut run = || -> capnp::Result<()> {
            let domain = params.get()?.get_domain()?.to_string()?;
            let signer: signer::Client = capnp_rpc::new_client(TestSigner { domain });
            results.get().set_signer(signer);
            Ok(())
        };
        ready(run())
    }

    fn verify(
        self: Rc<Self>,
        _: identity::VerifyParams,
        mut results: identity::VerifyResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        results.get().set_valid(true);
        ready(Ok(()))
    }
}

struct TestSigner {
    domain: String,
}

impl signer::Server for TestSigner {
    fn domain(
        self: Rc<Self>,
        _: signer::DomainParams,
        mut results: signer::DomainResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        results.get().set_domain(self.domain.as_str());
        ready(Ok(()))
    }
}

/// `login` returns the signer it is given, as its session.
struct Reflect;

impl terminal::Server<any_pointer::Owned> for Reflect {
    fn login(
        self: Rc<Self>,
        params: terminal::LoginParams<any_pointer::Owned>,
        mut results: terminal::LoginResults<any_pointer::Owned>,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        let mut run = || -> capnp::Result<()> {
            let signer = params.get()?.get_signer()?;
            results
                .get()
                .init_session()
                .set_as_capability(signer.client.hook);
            Ok(())
        };
        ready(run())
    }
}

fn wrapped_identity<P: Policy>(policy: P) -> identity::Client {
    let inner: identity::Client = capnp_rpc::new_client(TestIdentity);
    identity::Client::new(wrap(inner.client, policy).unwrap().hook)
}

async fn domain_of(signer: &signer::Client) -> capnp::Result<String> {
    let resp = signer.domain_request().send().promise.await?;
    Ok(resp.get()?.get_domain()?.to_string()?)
}

#[test]
fn calls_are_forwarded_and_returned_caps_wrapped() {
    let policy = Counting::default();
    let identity = wrapped_identity(policy.clone());
    block_on(async {
        let mut req = identity.signer_request();
        req.get().set_domain("d");
        let resp = req.send().promise.await.unwrap();
        assert_eq!(policy.admits.get(), 1);
        let signer = resp.get().unwrap().get_signer().unwrap();
        assert_eq!(domain_of(&signer).await.unwrap(), "d");
        assert_eq!(
            policy.admits.get(),
            2,
            "the returned signer goes through the policy"
        );
    });
}

#[test]
fn pipelined_calls_go_through_the_policy() {
    let policy = Counting::default();
    let identity = wrapped_identity(policy.clone());
    block_on(async {
        let mut req = identity.signer_request();
        req.get().set_domain("piped");
        let pipelined = req.send().pipeline.get_signer();
        assert_eq!(domain_of(&pipelined).await.unwrap(), "piped");
        assert_eq!(policy.admits.get(), 2);
    });
}

#[test]
fn a_refused_call_fails_and_reaches_nothing() {
    let policy = Counting::default();
    policy.refuse.set(true);
    let identity = wrapped_identity(policy.clone());
    block_on(async {
        let err = identity
            .verify_request()
            .send()
            .promise
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("refused by policy"), "{err}");
        policy.refuse.set(false);
        let resp = identity.verify_request().send().promise.await.unwrap();
        assert!(resp.get().unwrap().get_valid());
    });
}

#[test]
fn a_panicking_method_fails_only_that_call() {
    let identity = wrapped_identity(CatchPanics::new("test"));
    block_on(async {
        let err = identity
            .public_key_request()
            .send()
            .promise
            .await
            .err()
            .unwrap();
        let text = err.to_string();
        assert!(text.contains("provider `test` panicked: boom"), "{text}");
        let resp = identity.verify_request().send().promise.await.unwrap();
        assert!(
            resp.get().unwrap().get_valid(),
            "the provider keeps serving"
        );
    });
}

#[test]
fn a_cap_passed_in_comes_back_wrapped() {
    let policy = Counting::default();
    let inner: terminal::Client<any_pointer::Owned> = capnp_rpc::new_client(Reflect);
    let terminal = terminal::Client::<any_pointer::Owned>::new(
        wrap(inner.client, policy.clone()).unwrap().hook,
    );
    let signer: signer::Client = capnp_rpc::new_client(TestSigner {
        domain: "mine".into(),
    });
    block_on(async {
        let mut req = terminal.login_request();
        req.get().set_signer(signer);
        let resp = req.send().promise.await.unwrap();
        assert_eq!(policy.admits.get(), 1);
        let session: signer::Client = resp
            .get()
            .unwrap()
            .get_session()
            .unwrap()
            .get_as_capability()
            .unwrap();
        assert_eq!(domain_of(&session).await.unwrap(), "mine");
        assert_eq!(
            policy.admits.get(),
            2,
            "the reflected capability is wrapped"
        );
    });
}

#[test]
fn a_forwarded_error_drops_the_prefixes_earlier_vats_added() {
    let twice = capnp::Error::failed("remote exception: remote exception: boom".into());
    assert_eq!(super::said_once(twice).extra, "boom");
    let plain = capnp::Error::failed("staleEpoch: x".into());
    assert_eq!(super::said_once(plain).extra, "staleEpoch: x");
}
