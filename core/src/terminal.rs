//! `Terminal(Membrane)`: a membrane behind challenge–response login.
//!
//! Remote access to a node's membrane goes through a terminal, so the
//! capability a remote peer holds is not the membrane itself but the right
//! to ask for it. `login(signer)` picks a fresh 32-byte nonce, asks the
//! caller's `Signer` to sign it with the current epoch's seq, and hands out
//! the membrane only if the signature verifies under an allowed key for
//! [`DOMAIN`], over this nonce and this epoch, and the epoch did not end
//! meanwhile. A signature that answers an earlier challenge (a replay) or
//! an older epoch is refused, and the refusal says which.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use capnp::Error;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use rand_core::RngCore;
use ww_capnp::identity_capnp::signer;
use ww_capnp::membrane_capnp::{membrane, terminal};

use crate::epoch::Epochs;

/// The signing domain of a terminal login: a signer must be made with
/// `Identity.signer("ww/terminal")`, so no signature made for another
/// purpose logs in.
pub const DOMAIN: &str = "ww/terminal";

/// How many answered challenges are remembered to name a replay as such.
const REMEMBERED: usize = 1024;

/// How many past epochs a refusal looks back over to name a stale
/// signature as such.
const LOOK_BACK: u64 = 16;

/// Exactly what a login signs: `domain || 0x00 || nonce || seq` (8 bytes,
/// big-endian), as `Signer.sign` does.
pub fn challenge_bytes(nonce: &[u8], epoch_seq: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(DOMAIN.len() + 1 + nonce.len() + 8);
    bytes.extend_from_slice(DOMAIN.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(nonce);
    bytes.extend_from_slice(&epoch_seq.to_be_bytes());
    bytes
}

/// Serves `Terminal(Membrane)`.
pub struct TerminalServer {
    session: membrane::Client,
    allowed: Vec<VerifyingKey>,
    epochs: Rc<Epochs>,
    /// Nonces of past logins (and the seq they were issued in), newest last.
    answered: RefCell<VecDeque<([u8; 32], u64)>>,
}

impl TerminalServer {
    /// A terminal in front of `session` that admits the holders of
    /// `allowed` keys.
    pub fn new(
        session: membrane::Client,
        allowed: Vec<VerifyingKey>,
        epochs: Rc<Epochs>,
    ) -> TerminalServer {
        TerminalServer {
            session,
            allowed,
            epochs,
            answered: RefCell::default(),
        }
    }

    /// This terminal as a capability.
    pub fn into_client(self) -> terminal::Client<membrane::Owned> {
        capnp_rpc::new_client(self)
    }

    /// Why `signature` does not answer (`nonce`, `seq`): a replay of an
    /// earlier challenge, an older epoch, or simply not this challenge.
    fn diagnose(&self, key: &VerifyingKey, signature: &Signature, nonce: &[u8], seq: u64) -> Error {
        let verifies = |n: &[u8], s: u64| key.verify(&challenge_bytes(n, s), signature).is_ok();
        if self.answered.borrow().iter().any(|(n, s)| verifies(n, *s)) {
            return refused("the signature answers an earlier challenge (a replayed nonce); sign the nonce this login issued");
        }
        if let Some(old) = (seq.saturating_sub(LOOK_BACK)..seq)
            .rev()
            .find(|&s| verifies(nonce, s))
        {
            return refused(&format!(
                "signed for epoch {old}, but the current epoch is {seq} (a stale epoch); sign with the epoch seq the challenge gives"
            ));
        }
        refused(&format!(
            "the signature does not verify for this challenge; sign with a Signer made for domain \"{DOMAIN}\""
        ))
    }

    fn remember(&self, nonce: [u8; 32], seq: u64) {
        let mut answered = self.answered.borrow_mut();
        if answered.len() == REMEMBERED {
            answered.pop_front();
        }
        answered.push_back((nonce, seq));
    }
}

fn refused(why: &str) -> Error {
    Error::failed(format!("login refused: {why}"))
}

impl terminal::Server<membrane::Owned> for TerminalServer {
    async fn login(
        self: Rc<Self>,
        params: terminal::LoginParams<membrane::Owned>,
        mut results: terminal::LoginResults<membrane::Owned>,
    ) -> Result<(), Error> {
        let signer: signer::Client = params.get()?.get_signer()?;
        let mut nonce = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut nonce);
        let seq = self.epochs.current().seq;

        let mut request = signer.sign_request();
        request.get().set_nonce(&nonce);
        request.get().set_epoch_seq(seq);
        let signed = request.send().promise.await?;
        // Issued and answered: from now on a signature over this nonce is a
        // replay.
        self.remember(nonce, seq);
        let signature = signed.get()?.get_signature()?;
        let signature = Signature::from_slice(signature)
            .map_err(|_| refused("the signature is not 64 bytes of Ed25519"))?;
        let answer = signer.public_key_request().send().promise.await?;
        let key = answer.get()?.get_key()?;
        let key = <[u8; 32]>::try_from(key)
            .ok()
            .and_then(|k| VerifyingKey::from_bytes(&k).ok())
            .ok_or_else(|| refused("the signer's public key is not an Ed25519 key"))?;
        if !self.allowed.contains(&key) {
            let key = hex::encode(key.as_bytes());
            return Err(refused(&format!(
                "key {key} is not allowed on this terminal; log in with an allowed key, or have \
                 the node started with `--allow-key {key}`"
            )));
        }
        if key
            .verify(&challenge_bytes(&nonce, seq), &signature)
            .is_err()
        {
            return Err(self.diagnose(&key, &signature, &nonce, seq));
        }
        let now = self.epochs.current().seq;
        if now != seq {
            return Err(refused(&format!(
                "the epoch advanced from {seq} to {now} during login (a stale epoch); log in again"
            )));
        }
        results.get().set_session(self.session.clone())?;
        Ok(())
    }
}

pub mod keys;
pub mod serve;

#[cfg(test)]
mod tests;
