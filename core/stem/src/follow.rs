//! The indexer: follows an Atom's `HeadUpdated` events and feeds the
//! [`Finalizer`].
//!
//! Two WebSocket subscriptions, new blocks and `HeadUpdated` logs, carry
//! the chain's news as it happens; HTTP `eth_getLogs` backfills from the
//! cursor on start, after every reconnect, and whenever the blocks seen are
//! not one continuous chain (a gap, or a reorg), so an update mined while
//! the WebSocket was down is still found. Nothing is settled while the logs
//! might be incomplete. A lost WebSocket is reconnected with exponential
//! back-off; meanwhile the node stays on its epoch.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256};
use alloy::providers::{Provider, ProviderBuilder, RootProvider, WsConnect};
use futures::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

use crate::chain::{Chain, Update};
use crate::cursor::{Cursor, CursorFile};
use crate::finalizer::{Adoption, Finalizer};
use crate::head::Head;
use crate::StemError;

/// What to follow and how.
#[derive(Clone, Debug)]
pub struct Config {
    /// The Atom's address (`0x…`).
    pub atom: String,
    /// JSON-RPC over HTTP: backfill and the re-checks at depth.
    pub rpc_url: String,
    /// JSON-RPC over WebSocket: the subscriptions.
    pub ws_url: String,
    /// Blocks on top of an update's block before it is adopted (at least 1).
    pub depth: u64,
    /// Where the cursor is kept; `None`: [`default_cursor_path`].
    pub cursor: Option<PathBuf>,
    /// The longest wait between reconnect attempts.
    pub max_backoff: Duration,
}

impl Config {
    /// Following `atom` on a local node (`127.0.0.1:8545`), 6 blocks deep.
    pub fn new(atom: impl Into<String>) -> Config {
        Config {
            atom: atom.into(),
            rpc_url: "http://127.0.0.1:8545".into(),
            ws_url: "ws://127.0.0.1:8545".into(),
            depth: 6,
            cursor: None,
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// The first wait before reconnecting.
pub const MIN_BACKOFF: Duration = Duration::from_millis(100);

/// `$XDG_STATE_HOME/ww/stem/<chain>-<atom>.json` (or under
/// `~/.local/state`); `None` without a home.
pub fn default_cursor_path(chain_id: u64, atom: &Address) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join(format!("ww/stem/{chain_id}-{atom}.json")))
}

/// A stem being followed.
pub struct Following {
    /// The head the node starts on: the last one adopted before a restart,
    /// or the Atom's finalized head on a first start (`None`: no head yet).
    pub initial: Option<Head>,
    /// Heads as they are adopted, in order.
    pub adoptions: mpsc::Receiver<Adoption>,
    /// The chain's id.
    pub chain_id: u64,
    /// Where the cursor is kept (`None`: nowhere, so a restart starts from
    /// the Atom's finalized head).
    pub cursor_path: Option<PathBuf>,
    /// The latest block the finalizer has settled at (0 before the first).
    pub settled: watch::Receiver<u64>,
    indexer: AbortHandle,
}

impl Drop for Following {
    /// Stops the indexer: it no longer reads the chain or writes the cursor.
    fn drop(&mut self) {
        self.indexer.abort();
    }
}

/// Starts following the Atom in `config`: checks the chain and the
/// contract, loads the cursor, connects the WebSocket, and spawns the
/// indexer on the current tokio runtime.
///
/// # Errors
///
/// A bad address or URL, an unreachable endpoint, no Atom at the address,
/// or an unreadable cursor. Failures after start are logged and retried;
/// they never end the stream.
pub async fn follow(config: Config) -> Result<Following, StemError> {
    if config.depth == 0 {
        return Err(StemError::Usage {
            what: "--confirmation-depth",
            value: "0".into(),
            reason: "must be at least 1 block".into(),
        });
    }
    let atom: Address = config.atom.parse().map_err(|e| StemError::Usage {
        what: "--stem",
        value: config.atom.clone(),
        reason: format!("{e}; expected a 0x-prefixed 20-byte address"),
    })?;
    let chain = Chain::connect(&config.rpc_url, atom).await?;
    let cursor_path = config
        .cursor
        .clone()
        .or_else(|| default_cursor_path(chain.chain_id(), &atom));
    let file = cursor_path
        .clone()
        .map(|path| CursorFile::new(path, chain.chain_id(), atom.to_string()));
    let cursor = match file.as_ref().map(CursorFile::load).transpose()?.flatten() {
        Some(cursor) => cursor,
        None => {
            // A first start: begin at the Atom's finalized head.
            let settled = chain.tip().await?.saturating_sub(config.depth);
            let (seq, cid) = chain.head_at(settled).await?;
            let cursor = Cursor {
                block: settled,
                seq,
                cid,
            };
            if let Some(file) = &file {
                file.save(&cursor)?;
            }
            cursor
        }
    };
    let initial = match cursor.seq {
        0 => None,
        seq => match Head::parse(seq, &cursor.cid) {
            Ok(head) => Some(head),
            Err(e) => {
                tracing::error!("stem: the finalized {e}; starting without a head");
                None
            }
        },
    };
    let ws = connect_ws(&config.ws_url).await?;
    let (tx, adoptions) = mpsc::channel(16);
    let (settled_tx, settled) = watch::channel(0);
    let indexer = Indexer {
        settled: settled_tx,
        finalizer: Finalizer::new(config.depth, cursor),
        chain,
        file,
        config,
    };
    tracing::info!(
        atom = %atom,
        depth = indexer.config.depth,
        seq = indexer.finalizer.cursor().seq,
        from_block = indexer.finalizer.cursor().block + 1,
        "stem: following"
    );
    let chain_id = indexer.chain.chain_id();
    let indexer = tokio::spawn(indexer.run(ws, tx)).abort_handle();
    Ok(Following {
        initial,
        adoptions,
        chain_id,
        cursor_path,
        settled,
        indexer,
    })
}

async fn connect_ws(url: &str) -> Result<RootProvider, StemError> {
    // One reconnect attempt inside alloy; after that its subscriptions end
    // and the indexer reconnects itself, backfilling what it missed.
    let connect = WsConnect::new(url).with_max_retries(1);
    ProviderBuilder::default()
        .connect_ws(connect)
        .await
        .map_err(|e| StemError::Unreachable {
            url: url.to_string(),
            reason: e.to_string(),
        })
}

struct Indexer {
    settled: watch::Sender<u64>,
    finalizer: Finalizer,
    chain: Chain,
    file: Option<CursorFile>,
    config: Config,
}

/// Why a WebSocket session ended.
enum End {
    /// The receiver of adoptions is gone: stop.
    Closed,
    /// The connection or a subscription failed: reconnect.
    Lost(String),
}

impl Indexer {
    async fn run(mut self, first: RootProvider, tx: mpsc::Sender<Adoption>) {
        let mut ws = Some(first);
        let mut backoff = MIN_BACKOFF;
        loop {
            let provider = match ws.take() {
                Some(provider) => provider,
                None => match connect_ws(&self.config.ws_url).await {
                    Ok(provider) => {
                        tracing::info!("stem: WebSocket reconnected");
                        backoff = MIN_BACKOFF;
                        provider
                    }
                    Err(e) => {
                        tracing::warn!("stem: {e}; retrying in {backoff:?}");
                        if tx.is_closed() {
                            return;
                        }
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(self.config.max_backoff);
                        continue;
                    }
                },
            };
            match self.session(&provider, &tx).await {
                End::Closed => return,
                End::Lost(why) => {
                    tracing::warn!("stem: lost the chain's WebSocket ({why}); reconnecting, the node stays on its epoch");
                }
            }
        }
    }

    /// Subscribes, backfills, then follows blocks and logs until the
    /// connection fails.
    async fn session(&mut self, ws: &RootProvider, tx: &mpsc::Sender<Adoption>) -> End {
        let subscribed = async {
            let heads = ws.subscribe_blocks().await?;
            let logs = ws.subscribe_logs(&self.chain.filter()).await?;
            Ok::<_, alloy::transports::TransportError>((heads.into_stream(), logs.into_stream()))
        };
        let (mut heads, mut logs) = match subscribed.await {
            Ok(streams) => streams,
            Err(e) => return End::Lost(format!("subscribing: {e}")),
        };
        // Logs are complete only after a backfill; until one succeeds, nothing
        // settles.
        let mut complete = false;
        let mut last: Option<(u64, B256)> = None;
        let tip = match self.chain.tip().await {
            Ok(tip) => Some(tip),
            Err(e) => {
                tracing::warn!("stem: {e}");
                None
            }
        };
        if let Some(tip) = tip {
            if let Some(end) = self.catch_up(tip, Instant::now(), &mut complete, tx).await {
                return end;
            }
        }
        loop {
            // Logs first: a block's log may be queued behind the headers of
            // the blocks mined on top of it (two subscriptions, one socket).
            tokio::select! {
                biased;
                log = logs.next() => match log {
                    Some(log) => {
                        let Some(update) = Update::from_log(&log) else { continue };
                        let block = update.block;
                        self.finalizer.observe(update);
                        // Already deep enough at the last block seen: settle
                        // now rather than at the next block, which may be
                        // long in coming.
                        if let Some((tip, _)) = last.filter(|(tip, _)| block + self.config.depth <= *tip) {
                            if let Some(end) = self.catch_up(tip, Instant::now(), &mut complete, tx).await {
                                return end;
                            }
                        }
                    }
                    None => return End::Lost("the log subscription ended".into()),
                },
                header = heads.next() => match header {
                    Some(header) => {
                        let seen = Instant::now();
                        let number = header.inner.number;
                        let continuous = last.is_none_or(|(n, hash)| {
                            number == n + 1 && header.inner.parent_hash == hash
                        });
                        last = Some((number, header.hash));
                        if !continuous {
                            tracing::debug!(block = number, "stem: blocks not continuous; backfilling");
                            complete = false;
                        }
                        if let Some(end) = self.catch_up(number, seen, &mut complete, tx).await {
                            return end;
                        }
                    }
                    None => return End::Lost("the block subscription ended".into()),
                },
            }
        }
    }

    /// Backfills when the logs may be incomplete, then settles at `tip`.
    async fn catch_up(
        &mut self,
        tip: u64,
        seen: Instant,
        complete: &mut bool,
        tx: &mpsc::Sender<Adoption>,
    ) -> Option<End> {
        if !*complete {
            let from = self.finalizer.cursor().block + 1;
            match self.chain.updates(from, tip).await {
                Ok(updates) => {
                    for update in updates {
                        self.finalizer.observe(update);
                    }
                    *complete = true;
                }
                Err(e) => {
                    tracing::warn!("stem: backfill failed ({e}); retrying at the next block");
                    return None;
                }
            }
        }
        let before = self.finalizer.cursor().clone();
        let adopted = match self.finalizer.settle(tip, seen, &self.chain).await {
            Ok(adopted) => Some(adopted),
            Err(e) => {
                tracing::warn!("stem: {e}; retrying at the next block");
                None
            }
        };
        if *self.finalizer.cursor() != before {
            if let Some(file) = &self.file {
                if let Err(e) = file.save(self.finalizer.cursor()) {
                    tracing::error!("stem: {e}; a restart may adopt again what was adopted since");
                }
            }
        }
        // Nothing settled (the RPC failed): go on with the next block.
        let adopted = adopted?;
        for adoption in adopted {
            if tx.send(adoption).await.is_err() {
                return Some(End::Closed);
            }
        }
        // After the adoptions are queued: whoever waits for this block sees them.
        self.settled.send_replace(tip);
        None
    }
}
