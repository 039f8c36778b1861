//! The `ww` application: a node on the [`ww_core`] kernel, and the
//! commands around it.
//!
//! Start at [`node::run`] (`ww run`): it assembles the image (fetching
//! [`ipfs_layers`] first), starts the kernel with the [`builtins`] this
//! binary links and the `--provider`s it is given, follows an on-chain
//! [`stem`] when asked, and drives pid0's [`shell`] from a terminal or
//! MCP. The other commands: [`inspect`] (`ww providers`), `push`,
//! [`scaffold`] (`ww init`), [`guest_build`] (`ww build`) and
//! [`precompile`] (`ww compile`). Which of
//! these parts this binary has is a cargo feature each ([`features`]).
#![deny(missing_docs)]

pub mod builtins;
pub mod features;
pub mod guest_build;
pub mod inspect;
pub mod ipfs_layers;
pub mod node;
pub mod precompile;
#[cfg(feature = "ipfs")]
pub mod push;
pub mod scaffold;
pub mod shell;
#[cfg(feature = "stem")]
pub mod stem;
#[cfg(not(feature = "stem"))]
#[path = "stem_off.rs"]
pub mod stem;
pub mod stem_options;
