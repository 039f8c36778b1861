//! The executor provider: lets a cell spawn child cells.
//!
//! A child gets exactly what its parent passes — capabilities, environment,
//! a directory of the image as its file system, limits — and nothing else.
//! The provider builds the guest-facing `Executor`, `Runtime` and `Process`
//! on the core's providers-only `cells` capability, so one engine, one
//! compile cache and one count of live cells serve the node; this crate adds
//! what a parent sees: spawning by path, loading code, and a cap on the
//! children one executor may have alive.

mod executor;
mod provider;

pub use provider::{provider, ExecutorProvider, EXPORT_NAME, MAX_CHILDREN_CONFIG};

ww_provider_sdk::export!(ExecutorProvider);
