//! ww's identity provider: the node's Ed25519 key, used to sign and verify
//! without the key ever entering a guest.
//!
//! It exports `identity` ([`identity.capnp`'s `Identity`](ww_capnp::identity_capnp))
//! to guests. `Identity.signer(domain)` hands out a [`signer::SignerImpl`]
//! bound to one domain, so a signature made for one purpose cannot be
//! replayed for another; [`signed_bytes`] is exactly what it signs.
//!
//! Start at [`provider()`]; the key comes from the required `identity`
//! config value (PKCS#8 PEM), which the core always passes.

pub mod identity;
pub mod provider;
pub mod signer;

pub use provider::{provider, IdentityProvider};
pub use signer::signed_bytes;

ww_provider_sdk::export!(IdentityProvider);

#[cfg(test)]
mod tests;
