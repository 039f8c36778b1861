//! A terminal login as a remote peer plays it: the node's real
//! `TerminalServer` in front of a real session membrane
//! ([`ww_core::terminal::serve::session`]), served as the bootstrap of a
//! two-party vat the way the host provider's `VatListener` serves it to
//! `ww shell` (capnp-rpc's network, default reader options).
//!
//! An input is a flags byte and then, in one of two modes:
//!
//! - **raw** (bit 6): the rest is the bytes the peer writes into the vat,
//!   arriving in pieces of `16 << (flags & 7)` bytes (the seeds are
//!   recorded real logins);
//! - **scripted**: a client vat logs in, and its `Signer` answers the
//!   challenge as the input says. The rest is a length byte `n`, `n` bytes
//!   of signature and then the bytes of the public key. The flags:
//!   - bits 0–1, the signature: 0 the input's bytes; 1 a real signature of
//!     this challenge; 2 a real one for the previous epoch (stale); 3 a
//!     real one of the first login's challenge (a replay);
//!   - bit 2: the key is the input's bytes (else the allowed key);
//!   - bit 3: the epoch ends while the signer answers;
//!   - bit 4: the login call carries no signer;
//!   - bit 5: log in twice on one connection (a replay needs a first
//!     login).
//!
//!   A login that succeeds grafts from the session it opened.
//!
//! Besides never panicking, what must hold: only a real signature of this
//! login's challenge, in an epoch that did not end, by the allowed key,
//! opens a session.

use std::cell::RefCell;
use std::rc::Rc;

use capnp::Error;
use capnp_rpc::rpc_twoparty_capnp::Side;
use capnp_rpc::{twoparty, RpcSystem};
use ed25519_dalek::Signer as _;
use futures::future::LocalBoxFuture;
use tokio::io::DuplexStream;
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
use ww_capnp::identity_capnp::signer;
use ww_capnp::membrane_capnp::{membrane, terminal};
use ww_core::epoch::Epochs;
use ww_core::rpc_budget::{CellBudget, RpcLimits};
use ww_core::terminal::{challenge_bytes, TerminalServer};

use crate::frames::Recording;
use crate::{drain, exports, feed, node_key, run_local, TURNS};

/// Signature modes (bits 0–1): the input's bytes.
pub const SIGN_INPUT: u8 = 0;
/// A real signature of this challenge.
pub const SIGN_REAL: u8 = 1;
/// A real signature for the previous epoch.
pub const SIGN_STALE: u8 = 2;
/// A real signature of the first login's challenge.
pub const SIGN_REPLAY: u8 = 3;
/// The key is the input's bytes.
pub const KEY_INPUT: u8 = 4;
/// The epoch ends while the signer answers.
pub const ADVANCE: u8 = 8;
/// The login carries no signer.
pub const NO_SIGNER: u8 = 16;
/// Two logins on one connection.
pub const TWICE: u8 = 32;
/// The rest of the input is the peer's bytes.
pub const RAW: u8 = 64;

/// The epoch the node is in when a login starts.
const FIRST_EPOCH: u64 = 5;

/// Builds a scripted input.
pub fn input(flags: u8, signature: &[u8], key: &[u8]) -> Vec<u8> {
    let mut out = vec![flags, signature.len() as u8];
    out.extend_from_slice(signature);
    out.extend_from_slice(key);
    out
}

struct Script {
    flags: u8,
    signature: Vec<u8>,
    key: Vec<u8>,
}

/// Plays one input against a fresh terminal. Returns whether it ended
/// within the harness's turns.
///
/// # Panics
///
/// When a login that should be refused opens a session, or one that
/// should succeed is refused.
pub fn login(data: &[u8]) -> bool {
    let Some((&flags, rest)) = data.split_first() else {
        return true;
    };
    if flags & RAW != 0 {
        let bytes = rest.to_vec();
        return run_local(TURNS, move || async move {
            let epochs = Rc::new(Epochs::starting_at(FIRST_EPOCH, Vec::new()));
            let (node, peer) = tokio::io::duplex(64 * 1024);
            let (peer_read, peer_write) = tokio::io::split(peer);
            tokio::task::spawn_local(feed(peer_write, bytes, 16 << (flags & 7)));
            tokio::task::spawn_local(drain(peer_read, Rc::default()));
            serve(node, &epochs).await;
        });
    }
    let (n, rest) = rest
        .split_first()
        .map_or((0, rest), |(&n, r)| (n as usize, r));
    let n = n.min(rest.len());
    let script = Script {
        flags,
        signature: rest[..n].to_vec(),
        key: rest[n..].to_vec(),
    };
    scripted(script, None)
}

/// What a real client vat writes to the terminal during the scripted
/// login `flags` (with the allowed key): the seeds of the raw mode.
///
/// # Panics
///
/// When the login does not end within the harness's turns.
pub fn record(flags: u8) -> Vec<u8> {
    let copy = Rc::new(RefCell::new(Vec::new()));
    let script = Script {
        flags: flags & !RAW,
        signature: Vec::new(),
        key: Vec::new(),
    };
    assert!(
        scripted(script, Some(copy.clone())),
        "the login did not end"
    );
    copy.take()
}

/// Plays a scripted login, keeping a copy of the peer's bytes in `copy`.
fn scripted(script: Script, copy: Option<Rc<RefCell<Vec<u8>>>>) -> bool {
    let script = Rc::new(script);
    run_local(TURNS, move || async move {
        let epochs = Rc::new(Epochs::starting_at(FIRST_EPOCH, Vec::new()));
        let (node, peer) = tokio::io::duplex(64 * 1024);
        tokio::task::spawn_local(serve(node, &epochs));
        let (read, write) = tokio::io::split(peer);
        let remote = match copy {
            Some(copy) => client(
                read.compat(),
                Recording {
                    inner: write.compat_write(),
                    copy,
                },
            ),
            None => client(read.compat(), write.compat_write()),
        };
        let signer = ScriptedSigner {
            script: script.clone(),
            epochs: epochs.clone(),
            nonces: RefCell::default(),
        };
        let signer: signer::Client = capnp_rpc::new_client(signer);
        let logins = if script.flags & TWICE != 0 { 2 } else { 1 };
        for i in 0..logins {
            let mut request = remote.login_request();
            if script.flags & NO_SIGNER == 0 {
                request.get().set_signer(signer.clone());
            }
            let reply = request.send().promise.await;
            let session = reply.and_then(|r| r.get()?.get_session());
            let admissible = admissible(&script, i);
            match session {
                Ok(session) => {
                    assert!(
                        admissible,
                        "a login with flags {:#04x} opened a session",
                        script.flags
                    );
                    let _ = session.graft_request().send().promise.await;
                }
                Err(e) => assert!(
                    !admissible,
                    "a real login (flags {:#04x}) was refused: {e}",
                    script.flags
                ),
            }
        }
    })
}

/// Whether login number `i` (from 0) of `script` must open a session: a
/// signer that answers with the allowed key and a real signature of this
/// login's challenge, in an epoch that does not end meanwhile. (The
/// input's own signature bytes never verify: they cannot know the nonce.)
fn admissible(script: &Script, i: usize) -> bool {
    let flags = script.flags;
    let key_ok = flags & KEY_INPUT == 0 || script.key == node_key().verifying_key().as_bytes();
    let real = match flags & 3 {
        SIGN_REAL => true,
        // The first login has no earlier challenge to replay.
        SIGN_REPLAY => i == 0,
        _ => false,
    };
    flags & (NO_SIGNER | ADVANCE) == 0 && key_ok && real
}

/// The node's terminal served on `stream` until the peer goes.
pub fn serve(stream: DuplexStream, epochs: &Rc<Epochs>) -> LocalBoxFuture<'static, ()> {
    let budget = CellBudget::new("remote shell sessions", RpcLimits::default());
    // pid0's exported capability: any capability stands in for its Shell.
    let pid0 = capnp_rpc::new_client::<signer::Client, _>(Refuser).client;
    let session = ww_core::terminal::serve::session(exports(), pid0, epochs.clone(), budget)
        .expect("the built-in schemas have Shell");
    let terminal: terminal::Client<membrane::Owned> =
        TerminalServer::new(session, vec![node_key().verifying_key()], epochs.clone())
            .into_client();
    let (read, write) = tokio::io::split(stream);
    let network = twoparty::VatNetwork::new(
        read.compat(),
        write.compat_write(),
        Side::Server,
        capnp::message::ReaderOptions::new(),
    );
    let rpc = RpcSystem::new(Box::new(network), Some(terminal.client));
    Box::pin(async move {
        let _ = rpc.await;
    })
}

/// A peer's client vat on a terminal: its bootstrap, with the vat driven
/// by a task of its own.
pub fn client<R, W>(read: R, write: W) -> terminal::Client<membrane::Owned>
where
    R: futures::AsyncRead + Unpin + 'static,
    W: futures::AsyncWrite + Unpin + 'static,
{
    let network = twoparty::VatNetwork::new(
        read,
        write,
        Side::Client,
        capnp::message::ReaderOptions::new(),
    );
    let mut rpc = RpcSystem::new(Box::new(network), None);
    let remote = rpc.bootstrap(Side::Server);
    tokio::task::spawn_local(rpc);
    remote
}

/// A capability whose every method is unimplemented.
struct Refuser;

impl signer::Server for Refuser {}

/// The peer's `Signer`, answering as the script says.
struct ScriptedSigner {
    script: Rc<Script>,
    epochs: Rc<Epochs>,
    /// The nonces it was asked to sign, oldest first.
    nonces: RefCell<Vec<Vec<u8>>>,
}

impl signer::Server for ScriptedSigner {
    async fn sign(
        self: Rc<Self>,
        params: signer::SignParams,
        mut results: signer::SignResults,
    ) -> Result<(), Error> {
        let params = params.get()?;
        let nonce = params.get_nonce()?.to_vec();
        let seq = params.get_epoch_seq();
        let flags = self.script.flags;
        let key = node_key();
        let signature = match flags & 3 {
            SIGN_REAL => key.sign(&challenge_bytes(&nonce, seq)).to_vec(),
            SIGN_STALE => key
                .sign(&challenge_bytes(&nonce, seq.saturating_sub(1)))
                .to_vec(),
            SIGN_REPLAY => {
                let nonces = self.nonces.borrow();
                let first = nonces.first().unwrap_or(&nonce);
                key.sign(&challenge_bytes(first, seq)).to_vec()
            }
            _ => self.script.signature.clone(),
        };
        self.nonces.borrow_mut().push(nonce);
        if flags & ADVANCE != 0 {
            self.epochs.advance(Vec::new());
        }
        results.get().set_signature(&signature);
        Ok(())
    }

    async fn public_key(
        self: Rc<Self>,
        _: signer::PublicKeyParams,
        mut results: signer::PublicKeyResults,
    ) -> Result<(), Error> {
        if self.script.flags & KEY_INPUT != 0 {
            results.get().set_key(&self.script.key);
        } else {
            results.get().set_key(node_key().verifying_key().as_bytes());
        }
        Ok(())
    }
}
