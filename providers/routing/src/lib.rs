//! ww's routing provider: content routing for cells over the host's
//! Kademlia DHT.
//!
//! It requires `dht`, which only the host provider exports and only to
//! providers, and exports `routing`
//! ([`routing.capnp`'s `Routing`](ww_capnp::routing_capnp::routing)) to
//! guests: keys are CIDs ([`key`]), announced and found by their multihash
//! as IPFS does. Start at [`provider()`].

pub mod key;
pub mod provider;
pub mod routing;

pub use provider::{provider, RoutingProvider};

ww_provider_sdk::export!(RoutingProvider);

#[cfg(test)]
mod tests;
