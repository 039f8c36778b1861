//! A transitive forwarding wrapper around any capability.
//!
//! [`wrap`] returns a capability that forwards every call to the one it
//! wraps, after asking a [`Policy`] whether to admit it, and with the policy
//! guarding the call while it runs. Every capability in a call's *results* is
//! wrapped with the same policy before the caller sees it, so the policy
//! follows the whole graph reachable from the first capability (a membrane).
//! The core uses it for the epoch guard (refuse calls once an epoch ends, and
//! race calls in flight against revocation); the SDK uses it with
//! [`CatchPanics`] so that a provider method that panics fails only that call.
//!
//! # How results are wrapped
//!
//! As C++'s `membrane.h` does, with a cap table: the response is copied into
//! a scratch message whose cap table collects every capability it holds;
//! each is replaced with its wrapped form and the scratch message is copied
//! into the real results.
//!
//! # Hazards
//!
//! - Parameters are forwarded as they are. A wrapped capability passed back
//!   in and returned again therefore comes back wrapped (results are always
//!   wrapped), possibly twice; a second layer only repeats the same checks.
//! - Forwarding copies the parameters, and a Cap'n Proto message whose
//!   pointers share data reads (and copies) far larger than it is. The copy
//!   is charged to the read limit of the message the caller sent: a vat
//!   that sets that limit relative to each message's size on the wire
//!   bounds what a tiny message can make the proxy hold, and a call over
//!   it fails alone, with an error that says why.
//! - Promise pipelining works: a pipelined call on a result waits for the
//!   results, which are wrapped, so it runs through the policy too.
//! - Streaming methods (`-> stream`) cannot be recognised without the schema,
//!   so they are forwarded as ordinary calls (`is_streaming` is false on the
//!   proxy). Ordering is kept — each call is forwarded in the order it is
//!   dispatched — and flow control is whatever the wrapped capability
//!   applies; a failed streaming call does not by itself fail later calls on
//!   the proxy, though the wrapped capability still may.

use std::cell::RefCell;
use std::ops::Deref;
use std::panic::AssertUnwindSafe;
use std::rc::{Rc, Weak};

use capnp::any_pointer;
use capnp::capability::{
    Client, DispatchCallResult, FromClientHook, FromServer, Params, Promise, Response, Results,
    Server,
};
use capnp::private::capability::ClientHook;
use capnp::traits::{Imbue, ImbueMut};
use futures::future::LocalBoxFuture;
use futures::FutureExt;

use crate::error::panic_message;

/// A forwarded call in flight, as a [`Policy::guard`] receives it.
pub type CallFuture = LocalBoxFuture<'static, capnp::Result<Response<any_pointer::Owned>>>;

/// What a wrapper checks on every call.
pub trait Policy: Clone + 'static {
    /// Held by every capability wrapped with this policy for as long as
    /// the wrapper lives: e.g. a count of the capabilities a caller holds.
    type Lease: 'static;

    /// Decides, before a call is forwarded, whether it may proceed.
    ///
    /// # Errors
    ///
    /// The error the caller receives instead of a result.
    fn admit(&self) -> Result<(), capnp::Error>;

    /// Decides whether one more capability may be wrapped, before it is.
    ///
    /// # Errors
    ///
    /// The error the call (or graft) that would hand the capability out
    /// fails with instead.
    fn lease(&self) -> Result<Self::Lease, capnp::Error>;

    /// Wraps a forwarded call in flight, e.g. to race it against revocation
    /// or to catch a panic. Return `call` itself to add nothing.
    fn guard(&self, call: CallFuture) -> CallFuture;

    /// Receives the hold of every capability wrapped with this policy, once,
    /// when it is wrapped. A policy that revokes keeps the holds and
    /// [releases](Hold::release) them when it revokes, so what they wrap is
    /// dropped even while the caller still holds the wrapper: a listener
    /// stops listening, a stream closes. The default keeps nothing.
    fn hold(&self, hold: Hold) {
        let _ = hold;
    }
}

/// A wrapper's reference to the capability it wraps, as its [`Policy`]
/// sees it: weak, so keeping it does not keep the wrapper alive.
pub struct Hold(Weak<RefCell<Option<Client>>>);

impl Hold {
    /// Drops the wrapped capability: the wrapper fails every later call.
    /// Returns `false` if the wrapper was already gone or released.
    pub fn release(&self) -> bool {
        // Taken out before it drops, so a drop that re-enters sees `None`.
        let taken = self.0.upgrade().and_then(|inner| inner.borrow_mut().take());
        taken.is_some()
    }

    /// Whether the wrapper still exists and holds its capability.
    pub fn is_held(&self) -> bool {
        self.0
            .upgrade()
            .is_some_and(|inner| inner.borrow().is_some())
    }
}

/// Wraps `cap` so that every call on it, and on every capability returned
/// from it, goes through `policy`.
///
/// # Errors
///
/// When the policy refuses the [lease](Policy::lease) of one more wrapped
/// capability.
pub fn wrap<P: Policy>(cap: Client, policy: P) -> capnp::Result<Client> {
    let lease = policy.lease()?;
    let inner = Rc::new(RefCell::new(Some(cap)));
    policy.hold(Hold(Rc::downgrade(&inner)));
    let proxy: ProxyClient = capnp_rpc::new_client_from_rc(Rc::new(Proxy {
        inner,
        policy,
        _lease: lease,
    }));
    Ok(Client::new(proxy.hook))
}

/// A [`Policy`] that turns a panic inside a call into a failed call naming
/// the provider and the panic message, so the provider keeps serving.
#[derive(Clone, Debug)]
pub struct CatchPanics {
    provider: Rc<str>,
}

impl CatchPanics {
    /// A policy for the provider called `provider`, named in its errors.
    pub fn new(provider: impl Into<String>) -> Self {
        CatchPanics {
            provider: provider.into().into(),
        }
    }
}

impl Policy for CatchPanics {
    type Lease = ();

    fn admit(&self) -> Result<(), capnp::Error> {
        Ok(())
    }

    fn lease(&self) -> Result<(), capnp::Error> {
        Ok(())
    }

    fn guard(&self, call: CallFuture) -> CallFuture {
        let provider = self.provider.clone();
        Box::pin(async move {
            // The provider's state may be mid-update when it panics; that is
            // its own business: its next call sees whatever it left.
            match AssertUnwindSafe(call).catch_unwind().await {
                Ok(result) => result,
                Err(payload) => {
                    let message = panic_message(payload.as_ref());
                    // The panic itself was reported by the panic hook.
                    tracing::debug!(provider = %provider, panic = %message, "provider method panicked");
                    Err(capnp::Error::failed(format!(
                        "provider `{provider}` panicked: {message}; the call failed, the provider \
                         keeps serving; report this to its authors"
                    )))
                }
            }
        })
    }
}

/// The wrapped capability and its policy.
struct Proxy<P: Policy> {
    /// `None` once the policy released it.
    inner: Rc<RefCell<Option<Client>>>,
    policy: P,
    _lease: P::Lease,
}

/// The client type `capnp_rpc::new_client_from_rc` builds for a [`Proxy`].
struct ProxyClient {
    hook: Box<dyn ClientHook>,
}

impl FromClientHook for ProxyClient {
    fn new(hook: Box<dyn ClientHook>) -> Self {
        ProxyClient { hook }
    }

    fn into_client_hook(self) -> Box<dyn ClientHook> {
        self.hook
    }

    fn as_client_hook(&self) -> &dyn ClientHook {
        self.hook.as_ref()
    }
}

impl<P: Policy> FromServer<Proxy<P>> for ProxyClient {
    type Dispatch = Dispatch<P>;

    fn from_server(s: Rc<Proxy<P>>) -> Dispatch<P> {
        Dispatch(s)
    }
}

/// capnp dispatches by value; this is the cheap clone it dispatches on.
struct Dispatch<P: Policy>(Rc<Proxy<P>>);

impl<P: Policy> Clone for Dispatch<P> {
    fn clone(&self) -> Self {
        Dispatch(self.0.clone())
    }
}

impl<P: Policy> Deref for Dispatch<P> {
    type Target = Proxy<P>;

    fn deref(&self) -> &Proxy<P> {
        &self.0
    }
}

impl<P: Policy> Server for Dispatch<P> {
    fn dispatch_call(
        self,
        interface_id: u64,
        method_id: u16,
        params: Params<any_pointer::Owned>,
        mut results: Results<any_pointer::Owned>,
    ) -> DispatchCallResult {
        // Admit and forward now, so calls reach the wrapped capability in
        // the order they were dispatched.
        let call = match self.forward(interface_id, method_id, &params) {
            Ok(call) => call,
            Err(e) => return DispatchCallResult::new(Promise::err(e), false),
        };
        drop(params);
        let promise = Promise::from_future(async move {
            let response = self.policy.guard(call).await.map_err(said_once)?;
            copy_wrapped(response.get()?, results.get(), &self.policy)
        });
        DispatchCallResult::new(promise, false)
    }

    fn as_ptr(&self) -> usize {
        Rc::as_ptr(&self.0).cast::<()>() as usize
    }
}

impl<P: Policy> Proxy<P> {
    /// Checks the policy and sends the call on to the wrapped capability.
    fn forward(
        &self,
        interface_id: u64,
        method_id: u16,
        params: &Params<any_pointer::Owned>,
    ) -> capnp::Result<CallFuture> {
        self.policy.admit()?;
        let params = params.get()?;
        let size = params.target_size().map_err(oversized)?;
        let inner = self.inner.borrow();
        let Some(inner) = inner.as_ref() else {
            return Err(capnp::Error::failed(
                "this capability was revoked; obtain it again".into(),
            ));
        };
        let mut req = inner.new_call::<any_pointer::Owned, any_pointer::Owned>(
            interface_id,
            method_id,
            Some(size),
        );
        req.get().set_as(params).map_err(oversized)?;
        Ok(Box::pin(req.send().promise))
    }
}

/// capnp-rpc's prefix for an error that crossed a vat.
const REMOTE: &str = "remote exception: ";

/// A forwarded call's error, without capnp-rpc's prefix: the caller's own
/// vat adds it again when the error crosses to the caller, so a caller
/// behind a chain of vats (a provider process, the node, a cell) reads
/// "remote exception:" once, not once per hop.
fn said_once(mut e: capnp::Error) -> capnp::Error {
    let mut text = e.extra.as_str();
    while let Some(rest) = text.strip_prefix(REMOTE) {
        text = rest;
    }
    if text.len() != e.extra.len() {
        e.extra = text.to_string();
    }
    e
}

/// Says why parameters that ran out of their message's read limit were
/// refused: the limit is the caller's own doing (shared pointers).
fn oversized(e: capnp::Error) -> capnp::Error {
    if matches!(e.kind, capnp::ErrorKind::ReadLimitExceeded) {
        capnp::Error::failed(
            "the call's parameters read larger than the message that carried them allows \
             (pointers that share data multiply what a reader must copy); send each piece \
             of data once"
                .into(),
        )
    } else {
        e
    }
}

/// Copies `from` into `to`, wrapping every capability it holds with `policy`.
fn copy_wrapped<P: Policy>(
    from: any_pointer::Reader<'_>,
    mut to: any_pointer::Builder<'_>,
    policy: &P,
) -> capnp::Result<()> {
    let mut scratch = capnp::message::Builder::new_default();
    let mut caps: Vec<Option<Box<dyn ClientHook>>> = Vec::new();
    {
        let mut root: any_pointer::Builder<'_> = scratch.init_root();
        root.imbue_mut(&mut caps);
        root.set_as(from)?;
    }
    let wrapped: Vec<Option<Box<dyn ClientHook>>> = caps
        .into_iter()
        .map(|cap| {
            cap.map(|hook| Ok(wrap(Client::new(hook), policy.clone())?.hook))
                .transpose()
        })
        .collect::<capnp::Result<_>>()?;
    let mut root: any_pointer::Reader<'_> = scratch.get_root_as_reader()?;
    root.imbue(&wrapped);
    to.set_as(root)
}

#[cfg(test)]
mod tests;
