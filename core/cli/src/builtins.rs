//! The providers linked into this `ww`, one cargo feature each.
//!
//! The kernel names no provider: it starts whatever list it is handed.
//! This is that list for the built-in ones; `--provider` adds the rest.

use ww_provider_sdk::provider::Provider;

/// The providers this binary was built with (by cargo feature), in the
/// order the registry starts them when no requirement says otherwise.
// One `push` per feature: with every feature off the list is empty.
#[allow(unused_mut, clippy::vec_init_then_push)]
pub fn providers() -> Vec<Box<dyn Provider>> {
    let mut providers: Vec<Box<dyn Provider>> = Vec::new();
    #[cfg(feature = "identity")]
    providers.push(Box::new(ww_identity::provider()));
    #[cfg(feature = "host")]
    providers.push(Box::new(ww_host::provider()));
    #[cfg(feature = "routing")]
    providers.push(Box::new(ww_routing::provider()));
    #[cfg(feature = "executor")]
    providers.push(Box::new(ww_executor::provider()));
    #[cfg(feature = "ipfs")]
    providers.push(Box::new(ww_ipfs::provider()));
    providers
}
