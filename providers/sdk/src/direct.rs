//! Calls that skip Cap'n Proto: an in-process caller (the core's typed WIT
//! door) runs a provider's method without building a message.
//!
//! Building and dispatching an in-process Cap'n Proto request costs several
//! times a Wasmtime host call, which is what a WIT call costs otherwise. So
//! for the methods of ww's interfaces that finish at once, this module
//! defines one trait per interface. A provider opts in by implementing the
//! trait on the object serving its capability, serving the capnp method
//! through the trait method (one implementation, both doors), and naming
//! the object with [`Export::with_direct`](crate::Export::with_direct).
//! The caller finds it as [`Export::direct`](crate::Export::direct),
//! without knowing the provider's type, and makes the epoch guard's check
//! itself.
//!
//! Only a provider in the host's process and thread can be called so: a
//! provider library runs on its own thread and runtime (its objects are
//! `Rc`, and its panic guard is at the byte stream), and a provider
//! process is another address space. Exports read from a message
//! ([`Export::read`](crate::Export::read)) therefore never have a direct
//! object, and their callers keep the Cap'n Proto path; the loader logs
//! that once per export ([`host`](crate::host)).

use std::rc::Rc;

use capnp::traits::HasTypeId;
use ww_capnp::identity_capnp::identity;
use ww_capnp::system_capnp::executor;

/// `Identity`'s calls that finish at once.
pub trait Identity {
    /// `Identity.publicKey`: the key signatures verify under.
    ///
    /// # Errors
    ///
    /// As the capability's call would fail.
    fn public_key(&self) -> capnp::Result<Vec<u8>>;
}

/// `Executor`'s calls that finish at once.
pub trait Executor {
    /// `Executor.echo`: `message` back (checks, and times, the path to the
    /// executor).
    ///
    /// # Errors
    ///
    /// As the capability's call would fail.
    fn echo(&self, message: String) -> capnp::Result<String>;
}

/// The object serving an export's capability, by the interface it is
/// called through.
#[derive(Clone)]
pub enum Direct {
    /// Serves an `Identity`.
    Identity(Rc<dyn Identity>),
    /// Serves an `Executor`.
    Executor(Rc<dyn Executor>),
}

impl Direct {
    /// The id of the interface the object is called through, which the
    /// export's schema must name for the object to be used.
    pub fn interface_id(&self) -> u64 {
        match self {
            Direct::Identity(_) => identity::Client::TYPE_ID,
            Direct::Executor(_) => executor::Client::TYPE_ID,
        }
    }
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Direct::Identity(_) => "Direct::Identity",
            Direct::Executor(_) => "Direct::Executor",
        })
    }
}

/// Whether an export of the interface `id` could be called directly by a
/// provider in the host's process: the loader says so when one read from a
/// message cannot.
pub fn has_direct_calls(id: u64) -> bool {
    id == identity::Client::TYPE_ID || id == executor::Client::TYPE_ID
}
