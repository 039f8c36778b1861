//! ww's IPFS provider: content-addressed storage for cells, with no daemon.
//!
//! Files and directories become UnixFS DAGs with **the CIDs Kubo's `ipfs
//! add` gives** ([`importer`]: CIDv0, dag-pb, 256 KiB chunks, balanced
//! layout; CIDv1 and raw leaves when asked), kept in an on-disk
//! [`blockstore`] under the node's data directory that verifies every block
//! it reads and writes atomically. Blocks missing locally come from peers
//! over [`bitswap`] 1.2.0 — through the host's providers-only `wire`
//! streams, so Kubo peers interoperate — and content is announced and found
//! through `routing`.
//!
//! Exports `ipfs` ([`ipfs.capnp`'s `Ipfs`](ww_capnp::ipfs_capnp::ipfs)):
//! `unixfs()` for [`reader`]-backed `cat`/`catStream`/`ls` of
//! `/ipfs/<cid>[/sub/path]` ([`path`]) and `add`/`addStream`/`addDirectory`,
//! and [`pins`] (unpinning collects what no pin reaches: [`gc`]). With `ipfs-url` set, the same capabilities are served by a
//! Kubo-compatible HTTP RPC API instead ([`kubo`]). Start at [`provider()`].

pub mod add_writer;
pub mod bitswap;
pub mod blocks;
pub mod blockstore;
pub mod cat_stream;
pub mod config;
pub mod error;
pub mod fields;
pub mod gc;
pub mod importer;
pub mod ipfs;
#[cfg(feature = "kubo")]
pub mod kubo;
pub mod path;
pub mod pins;
pub mod provider;
pub mod reader;
pub mod unixfs;

pub use provider::{provider, IpfsProvider};

ww_provider_sdk::export!(IpfsProvider);

#[cfg(test)]
mod reader_tests;
#[cfg(test)]
mod tests;
