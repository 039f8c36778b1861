//! The ww kernel: runs a sandboxed cell and hands it the capabilities that
//! providers serve. The `ww` application (`core/cli`) boots a node on it;
//! anything else that wants to host cells can too.
//!
//! [`image`] merges layers into an FHS tree, [`engine`] compiles a cell's
//! code (through the [`cache`] and the [`compile`] bounds), [`registry`]
//! loads and starts the providers it is handed, [`membrane`] serves them to
//! the cell guarded by [`epoch`], and [`cell`] runs the guest with its RPC
//! [`vat`] on the [`transport`] pipe and the same capabilities as typed
//! [`wit`] imports. A [`native`] cell is any executable, with the same
//! membrane on a socket at its fd 3. [`terminal`] puts a membrane behind a
//! login for remote peers.
//!
//! The kernel links no provider: the application hands it the built-in
//! ones (as `Box<dyn Provider>`), and `--provider` loads the rest.
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
pub mod image;
pub mod key;
pub mod limits;
pub mod membrane;
pub mod memory_budget;
pub mod native;
pub mod registry;
pub mod rpc_budget;
pub mod target;
pub mod terminal;
#[allow(missing_docs)]
pub mod transport;
pub mod vat;
pub mod wit;
