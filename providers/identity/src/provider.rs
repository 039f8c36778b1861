//! The provider: reads the key from config and exports `identity`.

use std::rc::Rc;

use capnp::traits::HasTypeId;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::SigningKey;
use futures::future::LocalBoxFuture;
use ww_capnp::identity_capnp::identity;
use ww_capnp::schema::{builtin, SchemaNode};
use ww_provider_sdk::direct::Direct;
use ww_provider_sdk::manifest::{Audience, ConfigKey, ExportDecl, Manifest};
use ww_provider_sdk::{Context, Error, Export, Provider};

use crate::identity::IdentityImpl;

/// The config key holding the node's signing key.
pub const KEY_CONFIG: &str = "identity";

/// The name `Identity` is exported under.
pub const EXPORT_NAME: &str = "identity";

/// Signs with the node's Ed25519 key and verifies others' signatures.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdentityProvider;

/// The identity provider, as the core's built-in table wants it.
pub fn provider() -> IdentityProvider {
    IdentityProvider
}

impl Provider for IdentityProvider {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "identity".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            exports: vec![ExportDecl {
                name: EXPORT_NAME.to_string(),
                audience: Audience::Guests,
            }],
            requires: Vec::new(),
            config: vec![ConfigKey {
                key: KEY_CONFIG.to_string(),
                help: "the node's Ed25519 signing key, PKCS#8 PEM".to_string(),
                required: true,
            }],
        }
    }

    fn schemas(&self) -> Vec<(String, SchemaNode)> {
        ww_provider_sdk::provider::builtin_schemas(&[(EXPORT_NAME, identity::Client::TYPE_ID)])
    }

    fn start(&self, ctx: Context) -> LocalBoxFuture<'static, Result<Vec<Export>, Error>> {
        let exports = (|| {
            let key = parse_key(ctx.required_config(KEY_CONFIG)?)?;
            let server = Rc::new(IdentityImpl::new(key));
            let cap: identity::Client = capnp_rpc::new_client_from_rc(server.clone());
            let schema = SchemaNode::from_set(&builtin(), identity::Client::TYPE_ID)?;
            tracing::debug!("identity provider started");
            Ok(vec![
                Export::new(EXPORT_NAME, cap.client, schema).with_direct(Direct::Identity(server))
            ])
        })();
        Box::pin(std::future::ready(exports))
    }
}

/// The signing key in `pem`; the error never echoes the key material.
fn parse_key(pem: &str) -> Result<SigningKey, Error> {
    SigningKey::from_pkcs8_pem(pem).map_err(|e| Error::Config {
        key: KEY_CONFIG.to_string(),
        reason: format!(
            "is not an Ed25519 PKCS#8 PEM private key ({e}); give a `-----BEGIN PRIVATE KEY-----` \
             block, or omit it to let ww generate an ephemeral key"
        ),
    })
}
