//! ww's host provider: the node's libp2p swarm, and the capabilities that
//! let cells use it.
//!
//! The swarm (TCP and QUIC, Noise, Yamux, Identify, Ping, Kademlia; see
//! [`behaviour`]) runs on its own thread and tokio runtime ([`driver`]),
//! because capability servers are single-threaded and must never stall the
//! network. Servers talk to it through a [`handle::SwarmHandle`]: bounded
//! commands, and a snapshot they read without waiting.
//!
//! Exports `host` ([`system.capnp`'s `Host`](ww_capnp::system_capnp::host),
//! served by [`host::HostImpl`]) to guests. The PeerId is derived from the
//! node key in the required `identity` config value, the same key the
//! identity provider signs with. Start at [`provider()`] and [`config`].

pub mod behaviour;
pub mod config;
pub mod driver;
pub mod error;
pub mod handle;
pub mod host;
pub mod provider;

pub use provider::{provider, HostProvider};

ww_provider_sdk::export!(HostProvider);

#[cfg(test)]
mod tests;
