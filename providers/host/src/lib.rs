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
//! served by [`host::HostImpl`]) to guests. `Host.network()` hands out
//! [`listener`], [`dialer`] and [`vat`] servers for cells' own protocols
//! under `/ww/` ([`protocol`]), each inbound stream admitted within
//! [`admission`] limits and carried as a [`byte_stream`]. Other providers
//! (routing) may require `dht` ([`dht::DhtImpl`]): the raw Kademlia DHT,
//! never handed to cells, and `wire` ([`wire::WireImpl`]): standard stream
//! protocols such as Bitswap for the IPFS provider. The PeerId is derived from the
//! node key in the required `identity` config value, the same key the
//! identity provider signs with. Start at [`provider()`] and [`config`].

pub mod admission;
pub mod behaviour;
pub mod byte_stream;
pub mod config;
pub mod dht;
pub mod dialer;
pub mod driver;
pub mod error;
pub mod handle;
pub mod host;
pub mod listener;
pub mod network;
pub mod protocol;
pub mod provider;
pub mod vat;
pub mod wire;

pub use provider::{provider, HostProvider};

ww_provider_sdk::export!(HostProvider);

#[cfg(test)]
mod tests;
