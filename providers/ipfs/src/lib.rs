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
//! and pins (unpinning collects what no pin reaches). With `ipfs-url` set,
//! the same capabilities are served by a Kubo-compatible HTTP RPC API
//! instead: one server decodes the requests for both stores. Start at
//! [`provider()`].
//!
//! Outside a node, [`add_pinned`] and [`add_through_api`] add a directory
//! tree whole (`ww push`), and [`check()`] verifies and repairs a data
//! directory's store (`ww check`). The storage modules below are public for the
//! fuzz targets, which drive them with hostile bytes.

pub mod bitswap;
pub mod blocks;
pub mod blockstore;
pub mod check;
pub mod importer;
pub mod path;
pub mod reader;

mod add_writer;
mod backend;
mod cat_stream;
mod config;
mod durable;
mod embedded;
mod error;
mod fields;
mod gc;
mod ipfs;
#[cfg(feature = "kubo")]
mod kubo;
mod lease;
mod pins;
mod provider;
mod tree;
mod unixfs;
mod usage;

pub use check::{check, CheckOptions, Report};
pub use config::default_data_dir;
pub use error::{IpfsError, Result};
pub use importer::AddOptions;
pub use lease::Lease;
pub use provider::{provider, IpfsProvider};
#[cfg(feature = "kubo")]
pub use tree::add_through_api;
pub use tree::{add_pinned, TreeEntry};
pub use usage::Usage;

ww_provider_sdk::export!(IpfsProvider);

#[cfg(test)]
mod check_tests;
#[cfg(test)]
mod gc_tests;
#[cfg(test)]
mod reader_tests;
#[cfg(test)]
mod tests;
