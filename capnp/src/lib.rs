//! ww's Cap'n Proto schemas, compiled once for the host, providers and guests
//! (this crate builds for `wasm32-wasip2` too).
//!
//! Start at [`membrane_capnp`]: a cell's vat bootstraps a `Membrane`, whose
//! `graft()` returns the capabilities in [`identity_capnp`],
//! [`system_capnp`], [`ipfs_capnp`] and [`routing_capnp`]. [`provider_capnp`]
//! is the vat between the core and a dynamically loaded provider;
//! [`export`] writes and reads the `Export`s all of them pass around, and
//! [`type_name`] spells a schema's types as the schema language does;
//! [`dht_capnp`] and [`wire_capnp`] are what the host provider hands other
//! providers only. [`StaleEpoch`] is how a call on a capability of an
//! ended epoch fails, written and read in one place.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

pub mod membrane_capnp {
    include!(concat!(env!("OUT_DIR"), "/membrane_capnp.rs"));
}
pub mod identity_capnp {
    include!(concat!(env!("OUT_DIR"), "/identity_capnp.rs"));
}
pub mod system_capnp {
    include!(concat!(env!("OUT_DIR"), "/system_capnp.rs"));
}
pub mod ipfs_capnp {
    include!(concat!(env!("OUT_DIR"), "/ipfs_capnp.rs"));
}
pub mod routing_capnp {
    include!(concat!(env!("OUT_DIR"), "/routing_capnp.rs"));
}
pub mod dht_capnp {
    include!(concat!(env!("OUT_DIR"), "/dht_capnp.rs"));
}
pub mod provider_capnp {
    include!(concat!(env!("OUT_DIR"), "/provider_capnp.rs"));
}
pub mod wire_capnp {
    include!(concat!(env!("OUT_DIR"), "/wire_capnp.rs"));
}
/// The kernel's `Shell`, exported by pid0 to the host's front ends.
pub mod shell_capnp {
    include!(concat!(env!("OUT_DIR"), "/shell_capnp.rs"));
}

pub mod export;
pub mod schema;
pub mod stale_epoch;
pub mod type_name;

pub use stale_epoch::StaleEpoch;
