//! The node's side of `--stem`: the Atom's adopted heads become the base
//! image layer and the epoch.
//!
//! [`ww_stem`] follows the contract and finalizes its updates. The node
//! boots on the head it starts from (the last one adopted before a restart,
//! or the Atom's finalized head): that head's tree, fetched through the
//! node's `ipfs` capability, is the base layer under the operator's layers,
//! and the epoch's seq is the Atom's `seq` for it (0 while the Atom has no
//! head). For each head adopted later, in order:
//!
//! 1. the head is pinned and its tree fetched; if that fails the node stays
//!    on its epoch and image, says why, and retries with back-off (a newer
//!    head adopted meanwhile replaces it);
//! 2. the tree is swapped in as the base layer, in place under the running
//!    cells ([`Rebasable`]); a head that cannot be a base (not a directory,
//!    no `boot/main.wasm` in the union) is refused and the node stays where
//!    it is;
//! 3. the previous head is unpinned;
//! 4. after the `--epoch-drain` grace the epoch advances to the head's seq:
//!    every capability of the old epoch fails with `staleEpoch` and cells
//!    graft again.
//!
//! pid0 is not restarted: it keeps its state and its session with the
//! operator, grafts again on `staleEpoch`, and reads the new base's files
//! through the same root. A new head that changes `boot/main.wasm` is
//! logged; that kernel runs from the next start of ww.

use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use capnp::capability::FromClientHook;
use cid::Cid;
use tempfile::TempDir;
use tokio::sync::mpsc;
use ww_capnp::ipfs_capnp::ipfs;
use ww_provider_sdk::Export;
use ww_stem::{Adoption, Config, Following, Head};

pub use ww_stem::StemError;

use crate::ipfs_layers;
use ww_core::epoch::Epochs;
use ww_core::image::{Base, Image, ImageError, Rebasable};

/// The export the head is pinned and fetched through.
pub const IPFS_EXPORT: &str = "ipfs";

/// How long one fetch-and-pin of a head may take before it is retried.
pub const PIN_TIMEOUT: Duration = Duration::from_secs(60);

/// The first wait before fetching a head again; it doubles up to
/// [`MAX_RETRY`].
pub const FIRST_RETRY: Duration = Duration::from_millis(500);

/// The longest wait between two fetches of a head.
pub const MAX_RETRY: Duration = Duration::from_secs(30);

pub use crate::stem_options::StemOptions;

/// Why a node cannot follow its stem once the providers run.
#[derive(Debug, thiserror::Error)]
pub enum StemNodeError {
    /// No provider exports `ipfs`: heads cannot be fetched.
    #[error(
        "--stem needs an `ipfs` provider to fetch the heads it adopts, and this ww has none; \
         use a ww built with the ipfs feature or pass --provider libww_ipfs.so"
    )]
    NoIpfs,
    /// The booted image cannot have its base swapped.
    #[error(transparent)]
    Image(#[from] ImageError),
}

/// A stem being followed by a booting node.
pub struct Stem {
    following: Following,
    drain: Duration,
}

impl Stem {
    /// Starts following the Atom: checks the chain and the contract now, so
    /// a bad `--stem` fails before anything boots.
    ///
    /// # Errors
    ///
    /// See [`ww_stem::follow`].
    pub async fn start(options: &StemOptions) -> Result<Stem, StemError> {
        let following = ww_stem::follow(Config {
            atom: options.atom.clone(),
            rpc_url: options.rpc_url.clone(),
            ws_url: options.ws_url.clone(),
            depth: options.depth,
            cursor: options.cursor.clone(),
            ..Config::new(options.atom.clone())
        })
        .await?;
        Ok(Stem {
            following,
            drain: options.drain,
        })
    }

    /// The layers to boot: the head the node starts on, as an IPFS layer,
    /// under `overlays`.
    pub fn layers(&self, overlays: &[String]) -> Vec<String> {
        let mut layers: Vec<String> = self.base_layer().into_iter().collect();
        layers.extend(overlays.iter().cloned());
        layers
    }

    fn base_layer(&self) -> Option<String> {
        self.following
            .initial
            .as_ref()
            .map(|head| format!("/ipfs/{}", head.cid))
    }

    /// The epochs of a node booting on the initial head: the Atom's seq
    /// for it, 0 while there is none.
    pub fn epochs(&self) -> Epochs {
        match &self.following.initial {
            Some(head) => Epochs::starting_at(head.seq, head.cid.to_bytes()),
            None => Epochs::starting_at(0, Vec::new()),
        }
    }

    /// Turns adopted heads into base layers and epochs for as long as the
    /// node runs (a task on the current `LocalSet`, which owns `image`
    /// from now on).
    ///
    /// `image` was assembled from `local`, the boot layers of
    /// [`Stem::layers`] with IPFS sources replaced by local copies under
    /// `fetched`.
    ///
    /// # Errors
    ///
    /// No `ipfs` export, or an image that is a layer used in place.
    pub fn spawn(
        self,
        image: Image,
        local: Vec<String>,
        fetched: Option<TempDir>,
        epochs: Rc<Epochs>,
        exports: &[Export],
    ) -> Result<(), StemNodeError> {
        let ipfs = exports
            .iter()
            .find(|e| e.name == IPFS_EXPORT)
            .map(|e| ipfs::Client::new(e.cap.hook.add_ref()))
            .ok_or(StemNodeError::NoIpfs)?;
        let mut overlays = local;
        let base = match self.base_layer() {
            Some(_) if !overlays.is_empty() => {
                Some(Base::new(PathBuf::from(overlays.remove(0)), None))
            }
            _ => None,
        };
        let image = Rebasable::new(image, base, overlays, fetched)?;
        let pinned = self.following.initial.as_ref().map(|h| h.cid);
        let heads = Heads {
            ipfs,
            exports: exports.to_vec(),
            epochs,
            image,
            pinned,
            drain: self.drain,
        };
        tokio::task::spawn_local(heads.run(self.following));
        Ok(())
    }
}

/// The task that moves the node from head to head.
struct Heads {
    ipfs: ipfs::Client,
    exports: Vec<Export>,
    epochs: Rc<Epochs>,
    image: Rebasable,
    /// The head held pinned for the current base.
    pinned: Option<Cid>,
    drain: Duration,
}

/// What became of fetching one head.
enum Fetched {
    /// Its tree, held locally.
    Held(Base),
    /// A newer head was adopted before this one could be fetched.
    Superseded(Adoption),
    /// The stem stopped.
    Closed,
}

impl Heads {
    async fn run(mut self, mut following: Following) {
        let mut next = following.adoptions.recv().await;
        while let Some(adoption) = next.take() {
            match self.fetch(&adoption, &mut following.adoptions).await {
                Fetched::Held(base) => self.adopt(&adoption, base).await,
                Fetched::Superseded(newer) => {
                    tracing::warn!(
                        "stem: head seq {} ({}) was superseded by seq {} before it could be fetched; moving to seq {}",
                        adoption.head.seq,
                        adoption.head.cid,
                        newer.head.seq,
                        newer.head.seq
                    );
                    next = Some(newer);
                    continue;
                }
                Fetched::Closed => return,
            }
            next = following.adoptions.recv().await;
        }
    }

    /// Pins and fetches the adopted head, retrying with back-off until it
    /// is held or a newer head is adopted.
    async fn fetch(
        &self,
        adoption: &Adoption,
        adoptions: &mut mpsc::Receiver<Adoption>,
    ) -> Fetched {
        let head = &adoption.head;
        let mut backoff = FIRST_RETRY;
        loop {
            let why = match tokio::time::timeout(PIN_TIMEOUT, self.try_fetch(head)).await {
                Ok(Ok(base)) => return Fetched::Held(base),
                Ok(Err(why)) => why,
                Err(_) => format!("no answer within {PIN_TIMEOUT:?}"),
            };
            tracing::warn!(
                "stem: cannot fetch head seq {} ({}): {why}; staying on epoch {} and its image, retrying in {backoff:?}",
                head.seq,
                head.cid,
                self.epochs.current().seq
            );
            tokio::select! {
                newer = adoptions.recv() => return match newer {
                    Some(newer) => Fetched::Superseded(newer),
                    None => Fetched::Closed,
                },
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_RETRY);
        }
    }

    async fn try_fetch(&self, head: &Head) -> Result<Base, String> {
        pin(&self.ipfs, &head.cid)
            .await
            .map_err(|e| format!("pinning failed: {}", e.extra))?;
        let dir = ipfs_layers::scratch()
            .map_err(|e| format!("cannot create a scratch directory for it: {e}"))?;
        let layer = format!("/ipfs/{}", head.cid);
        let local = ipfs_layers::fetch(std::slice::from_ref(&layer), &self.exports, dir.path())
            .await
            .map_err(|e| e.to_string())?;
        // A head that is a file is held too: fetching it again would not
        // make it a tree; `adopt` refuses it.
        let tree = PathBuf::from(local.into_iter().next().unwrap_or_default());
        Ok(Base::new(tree, Some(dir)))
    }

    /// Swaps `base` in, unpins the previous head, and advances the epoch
    /// after the drain; a head that cannot be the base is refused.
    async fn adopt(&mut self, adoption: &Adoption, base: Base) {
        let head = &adoption.head;
        // Confirmation to the head's tree held locally (pin and fetch).
        let held = adoption.confirmed_at.elapsed();
        let boot_before = std::fs::read(self.image.boot()).ok();
        let swapped = if base.tree().is_dir() {
            self.image.rebase(base).map_err(|e| e.to_string())
        } else {
            Err(
                "it is a file, not an image tree; push a directory with `ww push DIR --stem`"
                    .into(),
            )
        };
        let replaced = match swapped {
            Ok(replaced) => replaced,
            Err(why) => {
                tracing::error!(
                "stem: head seq {} ({}) cannot become the base layer: {why}; staying on epoch {} and its image until the next head",
                head.seq,
                head.cid,
                self.epochs.current().seq
            );
                if self.pinned != Some(head.cid) {
                    if let Err(e) = unpin(&self.ipfs, &head.cid).await {
                        tracing::warn!(
                            "stem: cannot unpin the refused head {}: {}",
                            head.cid,
                            e.extra
                        );
                    }
                }
                return;
            }
        };
        let swap_done = adoption.confirmed_at.elapsed();
        if let Some(old) = self.pinned.replace(head.cid).filter(|old| *old != head.cid) {
            if let Err(e) = unpin(&self.ipfs, &old).await {
                tracing::warn!("stem: cannot unpin the previous head {old}: {}", e.extra);
            }
        }
        if !self.drain.is_zero() {
            tokio::time::sleep(self.drain).await;
        }
        match self.epochs.advance_to(head.seq, head.cid.to_bytes()) {
            Ok(epoch) => {
                let revoked = adoption.confirmed_at.elapsed();
                let confirmed = SystemTime::now()
                    .checked_sub(revoked)
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .unwrap_or_default();
                tracing::info!(
                    epoch,
                    stem_seq = head.seq,
                    head = %head.cid,
                    held_us = held.as_micros() as u64,
                    swapped_us = swap_done.as_micros() as u64,
                    revoked_us = revoked.as_micros() as u64,
                    confirmed_unix_us = confirmed.as_micros() as u64,
                    "stem: moved to the adopted head"
                );
            }
            Err(e) => tracing::error!("stem: head seq {}: {e}", head.seq),
        }
        // Off the node's thread: the clean-up and the kernel check would
        // otherwise delay the cells grafting again.
        let boot = self.image.boot();
        let seq = head.seq;
        tokio::task::spawn_blocking(move || {
            drop(replaced);
            if boot_before != std::fs::read(boot).ok() {
                tracing::warn!(
                    "stem: head seq {seq} changes boot/main.wasm; the running pid0 keeps its code (it grafts again and sees the new files), the new kernel runs from the next start of ww"
                );
            }
        });
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
