//! The guest SDK for ww cells: everything a WebAssembly program needs to
//! receive and call capabilities from its host.
//!
//! A cell is a `wasm32-wasip2` component with no ambient authority. Its one
//! door is a Cap'n Proto RPC vat over two WASI streams (the `wetware:rpc`
//! WIT transport), on which the host bootstraps a `Membrane`. [`run`] opens
//! the vat and drives it; [`graft`] asks the Membrane for the capabilities
//! this cell may use. A complete cell:
//!
//! ```no_run
//! use ww_capnp::identity_capnp::identity;
//!
//! fn main() -> std::process::ExitCode {
//!     ww_guest::run(|membrane| async move {
//!         let caps = ww_guest::graft(&membrane).await?;
//!         let identity: identity::Client = caps.get("identity")?;
//!         let reply = identity.public_key_request().send().promise.await?;
//!         let key = reply.get()?.get_key()?;
//!         println!("epoch {}: node key {key:02x?}", caps.epoch());
//!         Ok(())
//!     })
//! }
//! ```
//!
//! Capabilities are revoked when the host's epoch advances: a call then
//! fails, [`stale_epoch`] says so, and the cell grafts again.
//!
//! The same capabilities are also typed WIT imports, with no Cap'n Proto in
//! sight: see [`wit`] (`ww_guest::wit::graft()?.identity`). Use the vat for
//! capability passing across the network and third-party capabilities.
//!
//! Underneath, [`executor::block_on`] sleeps in `wasi:io/poll` on the
//! pollables of pending I/O ([`io`]), so a call costs a round trip, never a
//! timer tick.

#![deny(missing_docs)]

mod bindings;
mod epoch;
mod error;
pub mod executor;
mod exit;
mod graft;
pub mod io;
mod reactor;
mod run;
pub mod vat;
pub mod wit;

pub use epoch::{provider_down, stale_epoch};
pub use error::Error;
pub use exit::exit;
pub use graft::{graft, Caps, Export};
pub use run::{run, run_exporting};
#[doc(hidden)]
pub use vat::raw_transport;
