//! A Linux jail for native processes: ww's native cells and out-of-process
//! providers run any executable, and it must not see the node's files,
//! reach the network, touch other processes or outlive the cell.
//!
//! A caller fills a [`Policy`] (what may be read, executed, written; the
//! limits), compiles it into a [`Jail`] once, and spawns each
//! `std::process::Command` (or tokio's) through it; the [`Jailed`] handle
//! kills the whole tree and reports how the program ended as an [`Ending`],
//! whose [`status`](Ending::status) matches a Wasm cell's. [`probe`] says
//! what this host offers. The jail fails closed: a missing feature is an
//! [`Error`] naming it, never a quieter jail.
//!
//! Layers, each its own module: files and TCP by Landlock (`landlock.rs`),
//! system calls by seccomp (`seccomp.rs`), the tree, the network and the
//! process count by namespaces (`namespaces.rs`), the tree's memory by a
//! cgroup where the host allows (`cgroup.rs`), the rest by resource limits
//! (`limits.rs`); the jail's init (`init.rs`) applies them in the child,
//! and stays behind as the cell's PID 1.
#![deny(missing_docs)]

mod cgroup;
mod error;
mod init;
mod jail;
mod jailed;
mod landlock;
mod limits;
mod namespaces;
mod policy;
mod probe;
mod seccomp;
mod status;

pub use error::{Error, Feature, Step};
pub use jail::Jail;
pub use jailed::Jailed;
pub use policy::{
    Limits, Policy, NETWORK_FILES, NOBODY, SYSTEM_FILES, SYSTEM_LIBRARIES, SYSTEM_SINKS,
};
pub use probe::{probe, Features};
pub use status::{code, Ending};
