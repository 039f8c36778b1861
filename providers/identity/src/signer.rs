//! `Signer`: signs challenges for one domain.

use std::rc::Rc;

use capnp::Error;
use ed25519_dalek::{Signer as _, SigningKey};
use ww_capnp::identity_capnp::signer;

/// Exactly what `Signer.sign(nonce, epochSeq)` signs:
/// `domain || 0x00 || nonce || epochSeq` (8 bytes, big-endian).
pub fn signed_bytes(domain: &str, nonce: &[u8], epoch_seq: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(domain.len() + 1 + nonce.len() + 8);
    bytes.extend_from_slice(domain.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(nonce);
    bytes.extend_from_slice(&epoch_seq.to_be_bytes());
    bytes
}

/// Serves `Signer` for one domain with the node's key.
pub struct SignerImpl {
    key: Rc<SigningKey>,
    domain: String,
}

impl SignerImpl {
    /// A signer for `domain` (checked non-empty and NUL-free by the caller).
    pub(crate) fn new(key: Rc<SigningKey>, domain: String) -> Self {
        SignerImpl { key, domain }
    }
}

impl signer::Server for SignerImpl {
    async fn sign(
        self: Rc<Self>,
        params: signer::SignParams,
        mut results: signer::SignResults,
    ) -> Result<(), Error> {
        let params = params.get()?;
        let message = signed_bytes(&self.domain, params.get_nonce()?, params.get_epoch_seq());
        let signature = self.key.sign(&message);
        results.get().set_signature(&signature.to_bytes());
        Ok(())
    }

    async fn public_key(
        self: Rc<Self>,
        _: signer::PublicKeyParams,
        mut results: signer::PublicKeyResults,
    ) -> Result<(), Error> {
        results.get().set_key(self.key.verifying_key().as_bytes());
        Ok(())
    }

    async fn domain(
        self: Rc<Self>,
        _: signer::DomainParams,
        mut results: signer::DomainResults,
    ) -> Result<(), Error> {
        results.get().set_domain(self.domain.as_str());
        Ok(())
    }
}
