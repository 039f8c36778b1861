//! The node's side of `--stem`: the Atom's adopted heads become epochs.
//!
//! [`ww_stem`] follows the contract and finalizes its updates; here each
//! adopted head is fetched and pinned through the node's `ipfs` capability
//! (when the node has one), the previous head is unpinned once the new one
//! is held, and, after the `--epoch-drain` grace, the epoch advances: every
//! capability of the old epoch fails with `staleEpoch` and cells graft
//! again. A head that cannot be fetched keeps the node on its epoch; it says
//! why and retries with back-off.

use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use capnp::capability::FromClientHook;
use cid::Cid;
use ww_capnp::ipfs_capnp::ipfs;
use ww_provider_sdk::Export;
use ww_stem::{Adoption, Config, Following};

pub use ww_stem::StemError;

use crate::epoch::Epochs;

/// The export the head is pinned through.
pub const IPFS_EXPORT: &str = "ipfs";

/// How long one fetch-and-pin of a head may take before it is retried.
pub const PIN_TIMEOUT: Duration = Duration::from_secs(60);

/// `ww run --stem …`.
#[derive(Clone, Debug)]
pub struct StemOptions {
    /// The Atom's address.
    pub atom: String,
    /// JSON-RPC over HTTP.
    pub rpc_url: String,
    /// JSON-RPC over WebSocket.
    pub ws_url: String,
    /// Blocks on top of an update before it is adopted.
    pub depth: u64,
    /// Grace for calls in flight before the old epoch's capabilities are
    /// revoked.
    pub drain: Duration,
    /// Where the cursor is kept (`None`: under `$XDG_STATE_HOME/ww/stem`).
    pub cursor: Option<PathBuf>,
}

/// Starts following the Atom: checks the chain and the contract now, so a
/// bad `--stem` fails before anything boots.
///
/// # Errors
///
/// See [`ww_stem::follow`].
pub async fn start(options: &StemOptions) -> Result<Following, StemError> {
    ww_stem::follow(Config {
        atom: options.atom.clone(),
        rpc_url: options.rpc_url.clone(),
        ws_url: options.ws_url.clone(),
        depth: options.depth,
        cursor: options.cursor.clone(),
        ..Config::new(options.atom.clone())
    })
    .await
}

/// Turns adopted heads into epochs for as long as the node runs (a task on
/// the current `LocalSet`).
pub fn spawn(mut following: Following, epochs: Rc<Epochs>, exports: &[Export], drain: Duration) {
    let ipfs = exports
        .iter()
        .find(|e| e.name == IPFS_EXPORT)
        .map(|e| ipfs::Client::new(e.cap.hook.add_ref()));
    if ipfs.is_none() {
        tracing::warn!("stem: this node has no `ipfs` provider; heads are adopted as epochs but not fetched or pinned");
    }
    let mut pinned = following.initial.as_ref().map(|h| h.cid);
    tokio::task::spawn_local(async move {
        while let Some(adoption) = following.adoptions.recv().await {
            if let Some(ipfs) = &ipfs {
                hold(ipfs, &adoption, &epochs).await;
                if let Some(old) = pinned.filter(|old| *old != adoption.head.cid) {
                    if let Err(e) = unpin(ipfs, &old).await {
                        tracing::warn!("stem: cannot unpin the previous head {old}: {e}");
                    }
                }
            }
            pinned = Some(adoption.head.cid);
            if !drain.is_zero() {
                tokio::time::sleep(drain).await;
            }
            let epoch = epochs.advance(adoption.head.cid.to_bytes());
            tracing::info!(
                epoch,
                stem_seq = adoption.head.seq,
                head = %adoption.head.cid,
                revoked_us = adoption.confirmed_at.elapsed().as_micros() as u64,
                "stem: moved to the adopted head"
            );
        }
    });
}

/// Fetches and pins the adopted head, retrying until it is held.
async fn hold(ipfs: &ipfs::Client, adoption: &Adoption, epochs: &Epochs) {
    let cid = adoption.head.cid;
    let mut backoff = Duration::from_millis(500);
    loop {
        let pinned = tokio::time::timeout(PIN_TIMEOUT, pin(ipfs, &cid)).await;
        let why = match pinned {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {PIN_TIMEOUT:?}"),
        };
        tracing::warn!(
            "stem: cannot fetch head seq {} ({cid}): {why}; staying on epoch {}, retrying in {backoff:?}",
            adoption.head.seq,
            epochs.current().seq
        );
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

async fn pin(ipfs: &ipfs::Client, cid: &Cid) -> Result<(), capnp::Error> {
    let mut request = ipfs.pin_request();
    request.get().set_cid(cid.to_string());
    request.send().promise.await.map(drop)
}

async fn unpin(ipfs: &ipfs::Client, cid: &Cid) -> Result<(), capnp::Error> {
    let mut request = ipfs.unpin_request();
    request.get().set_cid(cid.to_string());
    request.send().promise.await.map(drop)
}

/// `ww push DIR --stem ADDR --private-key-file F`: moves the Atom's head to
/// the pushed image's CID (`cid`, text form) and waits for the receipt.
///
/// # Errors
///
/// A CID that does not parse, an unreadable key, or a refused `setHead`
/// (not the owner, the same head again, the chain unreachable).
pub fn publish(
    rpc_url: &str,
    atom: &str,
    key_file: &std::path::Path,
    cid: &str,
) -> Result<ww_stem::push::Pushed, StemError> {
    let parsed: Cid = cid.parse().map_err(|e: cid::Error| StemError::Usage {
        what: "the pushed CID",
        value: cid.to_string(),
        reason: e.to_string(),
    })?;
    let key = ww_stem::push::read_private_key(key_file)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StemError::Transaction(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(ww_stem::push::set_head(rpc_url, atom, key, &parsed))
}
