//! The node the core targets stand for: its key and its exports.

use capnp::traits::HasTypeId;
use ed25519_dalek::SigningKey;
use ww_capnp::identity_capnp::identity;
use ww_capnp::schema::{builtin, SchemaNode};
use ww_provider_sdk::Export;

/// The node key of the harness: fixed, so runs are reproducible.
pub fn node_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

/// The exports a fuzzed vat's membrane serves: the real identity
/// provider's `Identity`, whose `signer` returns a further capability (so
/// the epoch guard's transitive wrapping is exercised).
pub fn exports() -> Vec<Export> {
    let identity: identity::Client =
        capnp_rpc::new_client(ww_identity::identity::IdentityImpl::new(node_key()));
    let schema = SchemaNode::from_set(&builtin(), identity::Client::TYPE_ID)
        .expect("the built-in schemas have Identity");
    vec![Export::new("identity", identity.client, schema)]
}
