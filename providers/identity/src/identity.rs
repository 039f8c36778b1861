//! `Identity`: the node's public key, domain-bound signers, verification.

use std::rc::Rc;

use capnp::Error;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use ww_capnp::identity_capnp::{identity, signer};
use ww_provider_sdk::direct;

use crate::signer::SignerImpl;

/// Serves `Identity` with a key held only here (zeroized when the last
/// signer and this server are dropped: `SigningKey` zeroizes on drop).
pub struct IdentityImpl {
    key: Rc<SigningKey>,
}

impl IdentityImpl {
    /// Serves `key`.
    pub fn new(key: SigningKey) -> Self {
        IdentityImpl { key: Rc::new(key) }
    }
}

/// The calls that finish at once, for both doors: the capability's
/// methods below and the node's typed WIT door.
impl direct::Identity for IdentityImpl {
    /// The node's Ed25519 public key.
    fn public_key(&self) -> Result<Vec<u8>, Error> {
        Ok(self.key.verifying_key().to_bytes().to_vec())
    }
}

impl identity::Server for IdentityImpl {
    async fn public_key(
        self: Rc<Self>,
        _: identity::PublicKeyParams,
        mut results: identity::PublicKeyResults,
    ) -> Result<(), Error> {
        results
            .get()
            .set_key(&direct::Identity::public_key(&*self)?);
        Ok(())
    }

    async fn signer(
        self: Rc<Self>,
        params: identity::SignerParams,
        mut results: identity::SignerResults,
    ) -> Result<(), Error> {
        let domain = params
            .get()?
            .get_domain()?
            .to_string()
            .map_err(|e| Error::failed(format!("signer domain is not UTF-8: {e}")))?;
        check_domain(&domain)?;
        let signer: signer::Client =
            capnp_rpc::new_client(SignerImpl::new(self.key.clone(), domain));
        results.get().set_signer(signer);
        Ok(())
    }

    async fn verify(
        self: Rc<Self>,
        params: identity::VerifyParams,
        mut results: identity::VerifyResults,
    ) -> Result<(), Error> {
        // Malformed input verifies as false; this call never fails on it.
        let valid = params
            .get()
            .ok()
            .and_then(|p| {
                Some(verify(
                    p.get_data().ok()?,
                    p.get_signature().ok()?,
                    p.get_public_key().ok()?,
                ))
            })
            .unwrap_or(false);
        results.get().set_valid(valid);
        Ok(())
    }
}

/// Non-empty and without NUL, so `domain || 0x00 || …` is unambiguous.
fn check_domain(domain: &str) -> Result<(), Error> {
    if domain.is_empty() {
        return Err(Error::failed(
            "signer domain is empty; name what the signatures are for".into(),
        ));
    }
    if domain.contains('\0') {
        return Err(Error::failed(
            "signer domain contains a NUL byte; remove it".into(),
        ));
    }
    Ok(())
}

/// Whether `signature` is a valid Ed25519 signature of `data` under
/// `public_key`; false for a malformed key or signature.
pub fn verify(data: &[u8], signature: &[u8], public_key: &[u8]) -> bool {
    let Ok(key_bytes) = <[u8; 32]>::try_from(public_key) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&key_bytes) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(signature) else {
        return false;
    };
    key.verify_strict(data, &signature).is_ok()
}
