//! The bodies of ww's fuzz targets, one function per target taking the
//! input bytes, and what they share: how they drive async code
//! deterministically (one current-thread runtime and a `LocalSet` per
//! input, run for a bounded number of turns), the exports a vat serves,
//! and how an input is fed to a transport in pieces.
//!
//! | target | function |
//! |---|---|
//! | `glia_read_eval` | [`glia::read_eval`] |
//! | `unixfs_blocks` | `blocks::read` |
//! | `bitswap_messages` | `bitswap::receive` |
//! | `vat_frames` | `frames::serve` |
//! | `terminal_login` | `login::login` |
//! | `layer_specs` | `layers::parse` |
//!
//! libFuzzer runs them from `tests/fuzz/fuzz_targets/`; `tests/replay.rs`
//! runs them over every input of the committed corpora; `src/bin/seeds.rs`
//! writes the seeds. The features say what a target needs: `ipfs` the IPFS
//! provider, `core` the core library. Each module documents its input
//! format.

pub mod glia;

#[cfg(feature = "ipfs")]
mod runtime;
#[cfg(feature = "ipfs")]
pub use runtime::*;

#[cfg(feature = "ipfs")]
pub mod bitswap;
#[cfg(feature = "ipfs")]
pub mod blocks;
#[cfg(feature = "core")]
pub mod frames;
#[cfg(feature = "core")]
pub mod layers;
#[cfg(feature = "core")]
pub mod login;
#[cfg(feature = "core")]
mod node;
#[cfg(feature = "core")]
pub use node::{exports, node_key};
