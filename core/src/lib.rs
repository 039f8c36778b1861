//! The ww core: boots an image as a sandboxed cell and hands it the
//! capabilities that providers serve.
//!
//! Start at [`node::run`], which ties the pieces together:
//! [`image`] merges layers into an FHS tree (fetching
//! [`ipfs_layers`] first), [`engine`] compiles
//! `boot/main.wasm` (through the [`cache`]), [`registry`] loads and starts
//! providers, [`membrane`] serves them to the cell guarded by [`epoch`], and
//! [`cell`] runs the guest with its RPC [`vat`] on the [`transport`] pipe and
//! the same capabilities as typed [`wit`] imports. A [`native`] cell is any
//! executable, with the same membrane on a socket at its fd 3.
#![deny(missing_docs)]

pub mod cache;
pub mod caller;
pub mod cell;
pub mod cells;
pub mod compile;
pub mod core_exports;
pub mod cpu;
pub mod engine;
pub mod epoch;
pub mod guest_build;
pub mod image;
pub mod inspect;
pub mod ipfs_layers;
pub mod key;
pub mod limits;
pub mod membrane;
pub mod memory_budget;
pub mod native;
pub mod node;
#[cfg(feature = "ipfs")]
pub mod push;
pub mod registry;
pub mod rpc_budget;
pub mod scaffold;
pub mod shell;
pub mod stem;
pub mod terminal;
#[allow(missing_docs)]
pub mod transport;
pub mod vat;
pub mod wit;
