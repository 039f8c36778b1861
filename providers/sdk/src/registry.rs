//! Where [`export!`](crate::export!) registers a provider's factory.
//!
//! The C entry points live in this SDK, once (see [`crate::ffi`]): identical
//! `#[no_mangle]` symbols emitted by every provider crate would collide when
//! two provider rlibs link into the `ww` binary. So `export!` only adds a
//! factory to a link-time list; in a provider's `cdylib` that list holds
//! exactly its own provider, and in the `ww` binary nothing reads it.

use crate::provider::Provider;

/// Makes a provider; one per library, added by [`export!`](crate::export!).
pub type Factory = fn() -> Box<dyn Provider>;

/// Every factory linked into this binary or library.
#[doc(hidden)]
#[linkme::distributed_slice]
pub static PROVIDERS: [Factory];

/// The one factory of this library.
pub(crate) fn the_factory() -> Result<Factory, String> {
    match PROVIDERS.len() {
        1 => Ok(PROVIDERS[0]),
        0 => Err("this library registers no provider; add `ww_provider_sdk::export!(YourProvider::new());` \
                  to its lib.rs"
            .to_string()),
        n => Err(format!(
            "this library registers {n} providers; a provider library must call `export!` exactly once"
        )),
    }
}

/// A fresh instance of this library's provider.
pub(crate) fn the_provider() -> Result<Box<dyn Provider>, String> {
    Ok(the_factory()?())
}
