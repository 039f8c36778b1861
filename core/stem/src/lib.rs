//! ww's stem: a node's lifecycle follows an on-chain head pointer.
//!
//! An [`Atom`](atom) contract holds a monotonic `seq` and a head CID. With
//! `ww run --stem ADDR` the node follows it: the indexer ([`follow`])
//! subscribes to `HeadUpdated` over WebSocket and backfills over HTTP after
//! every (re)connect or gap; the [`finalizer`] promotes an update only once
//! its block is `--confirmation-depth` blocks deep, re-checking on every new
//! block that the block is still canonical and that `head()` at that block
//! agrees, so an update reorged away is never adopted; a persisted
//! [`cursor`] makes a restart neither replay nor skip an update. What comes
//! out is a stream of [`Adoption`]s, which the node turns into epochs.
//!
//! [`push`] is the writer's side: `setHead` (and deploying an Atom).
#![deny(missing_docs)]

pub mod atom;
pub mod chain;
pub mod cursor;
pub mod error;
pub mod finalizer;
pub mod follow;
pub mod head;
pub mod push;

pub use error::StemError;
pub use finalizer::Adoption;
pub use follow::{follow, Config, Following};
pub use head::Head;
