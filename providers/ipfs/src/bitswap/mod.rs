//! Bitswap 1.2.0 over the host's swarm: fetching blocks from peers and
//! serving ours, interoperable with Kubo.
//!
//! The host hands this provider raw libp2p streams on
//! [`protocol::PROTOCOL_NAME`] through its providers-only `wire`
//! capability. As in Kubo, each side sends its messages on a stream it
//! opened itself ([`peers`]) and reads the other side's on inbound streams
//! ([`inbound`]).
//!
//! Fetching a block: ask every connected peer for it (want-block with
//! send-dont-have), ask again as new peers connect, and look up providers
//! of the root CID through `routing` (connecting to them) when no
//! connected peer has it; a block received is hashed, stored and handed to
//! everyone waiting for it, and the want is cancelled. Every wait is
//! bounded by the fetch timeout. A peer that answered DONT_HAVE is not
//! asked again soon: it remembers the want (as this node does, [`ledger`],
//! and Kubo does) and sends the block when it gets it.

pub mod inbound;
pub mod ledger;
pub mod message;
pub mod peers;
pub mod protocol;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use cid::Cid;
use tokio::sync::oneshot;
use ww_capnp::routing_capnp::routing;
use ww_capnp::system_capnp::host;
use ww_capnp::wire_capnp::wire;

use crate::blockstore::Blockstore;
use crate::error::{IpfsError, Result};
use message::{Entry, Message, WantType, Wantlist};
use peers::Peers;

/// How often a pending want looks for newly connected peers to ask.
const REBROADCAST: Duration = Duration::from_millis(250);

/// How long a want goes unanswered before every peer is asked again (a
/// peer may drop a want that arrives while it is still identifying us, as
/// Kubo does; wants are idempotent, so asking twice is harmless).
const ASK_AGAIN_AFTER: Duration = Duration::from_secs(2);

/// How long a want goes unmet before even the peers that answered
/// DONT_HAVE (and so remember it) are asked again: a peer may have
/// restarted, or dropped the want from a full ledger.
const ASK_ALL_AGAIN_AFTER: Duration = Duration::from_secs(30);

/// How many providers of a root are looked up at once.
const PROVIDERS: u32 = 8;

/// How long a provider lookup for one root is not repeated (a want still
/// unmet after it looks again: the content may have been announced since).
const SEARCH_AGAIN_AFTER: Duration = Duration::from_secs(2);

type Waiter = oneshot::Sender<Vec<u8>>;

/// One block this node is waiting for.
struct Want {
    cid: Cid,
    waiters: Vec<Waiter>,
    /// Peers already asked.
    asked: HashSet<String>,
    /// Peers that answered DONT_HAVE (they remember the want).
    answered: HashSet<String>,
}

/// The Bitswap engine of one node.
pub struct Bitswap {
    me: Weak<Bitswap>,
    store: Blockstore,
    host: host::Client,
    routing: Option<routing::Client>,
    peers: Peers,
    /// Keyed by multihash bytes, like the store.
    wants: RefCell<HashMap<Vec<u8>, Want>>,
    /// Roots whose providers were looked up, and when.
    searched: RefCell<HashMap<Vec<u8>, Instant>>,
    /// What peers want that this node does not have yet.
    ledger: RefCell<ledger::Ledger>,
}

impl Bitswap {
    /// Starts Bitswap: listens on the protocol through `wire`, answers
    /// from `store`, finds peers through `host` and `routing`.
    ///
    /// # Errors
    ///
    /// When the host refuses the listener (another provider listens).
    pub async fn start(
        store: Blockstore,
        wire: wire::Client,
        host: host::Client,
        routing: Option<routing::Client>,
    ) -> Result<Rc<Bitswap>> {
        let bitswap = Rc::new_cyclic(|me| Bitswap {
            me: me.clone(),
            store,
            host,
            routing,
            peers: Peers::new(wire.clone()),
            wants: RefCell::default(),
            searched: RefCell::default(),
            ledger: RefCell::default(),
        });
        let handler: ww_capnp::system_capnp::stream_handler::Client =
            capnp_rpc::new_client(inbound::Inbound::new(Rc::downgrade(&bitswap)));
        let mut request = wire.listen_request();
        request.get().set_protocol(protocol::PROTOCOL_NAME);
        request.get().set_handler(handler);
        request
            .send()
            .promise
            .await
            .map_err(|e| IpfsError::Network(format!("cannot serve Bitswap: {e}")))?;
        Ok(bitswap)
    }

    /// The store blocks are served from.
    pub fn store(&self) -> &Blockstore {
        &self.store
    }

    /// Fetches `cid` from peers, storing it; `root` is where the caller
    /// started (its providers are looked up).
    ///
    /// # Errors
    ///
    /// [`IpfsError::NotFound`] after `timeout`.
    pub async fn fetch(&self, cid: Cid, root: Cid, timeout: Duration) -> Result<Vec<u8>> {
        let received = self.want(cid, root, timeout);
        match tokio::time::timeout(timeout, received).await {
            Ok(Ok(data)) => Ok(data),
            _ => {
                let key = cid.hash().to_bytes();
                let peers = match self.wants.borrow_mut().get_mut(&key) {
                    Some(want) => {
                        want.waiters.retain(|w| !w.is_closed());
                        want.asked.len()
                    }
                    None => 0,
                };
                // It may have arrived just as the timer fired.
                if let Some(data) = self.store.get(&cid)? {
                    return Ok(data);
                }
                Err(IpfsError::NotFound {
                    cid: cid.to_string(),
                    peers,
                    timeout,
                })
            }
        }
    }

    /// Starts fetching `cid` without waiting for it.
    pub fn prefetch(&self, cid: Cid, root: Cid, timeout: Duration) {
        let received = self.want(cid, root, timeout);
        tokio::task::spawn_local(async move {
            let _ = tokio::time::timeout(timeout, received).await;
        });
    }

    /// Registers a waiter for `cid`, starting the want if it is new.
    fn want(&self, cid: Cid, root: Cid, timeout: Duration) -> oneshot::Receiver<Vec<u8>> {
        let (tx, rx) = oneshot::channel();
        let key = cid.hash().to_bytes();
        let mut wants = self.wants.borrow_mut();
        match wants.get_mut(&key) {
            Some(want) => want.waiters.push(tx),
            None => {
                wants.insert(
                    key.clone(),
                    Want {
                        cid,
                        waiters: vec![tx],
                        asked: HashSet::new(),
                        answered: HashSet::new(),
                    },
                );
                if let Some(me) = self.me.upgrade() {
                    // A moment past the caller's timeout, so its error can
                    // still count the peers asked.
                    let deadline = Instant::now() + timeout + Duration::from_millis(500);
                    tokio::task::spawn_local(me.pursue(key, root, deadline));
                }
            }
        }
        rx
    }

    /// Asks peers for one want until it is met, abandoned or out of time.
    async fn pursue(self: Rc<Self>, key: Vec<u8>, root: Cid, deadline: Instant) {
        let mut asked_at = Instant::now();
        let mut all_asked_at = Instant::now();
        loop {
            if asked_at.elapsed() >= ASK_AGAIN_AFTER {
                asked_at = Instant::now();
                let all = all_asked_at.elapsed() >= ASK_ALL_AGAIN_AFTER;
                if all {
                    all_asked_at = Instant::now();
                }
                if let Some(want) = self.wants.borrow_mut().get_mut(&key) {
                    if all {
                        want.answered.clear();
                    }
                    let answered = &want.answered;
                    want.asked.retain(|peer| answered.contains(peer));
                }
            }
            let (cid, new_peers) = {
                let mut wants = self.wants.borrow_mut();
                let Some(want) = wants.get_mut(&key) else {
                    return;
                };
                want.waiters.retain(|w| !w.is_closed());
                if want.waiters.is_empty() || Instant::now() >= deadline {
                    let want = wants.remove(&key).expect("present");
                    drop(wants);
                    self.cancel(&want);
                    return;
                }
                (want.cid, Vec::new())
            };
            let mut new_peers = new_peers;
            for peer in self.connected().await {
                let mut wants = self.wants.borrow_mut();
                let Some(want) = wants.get_mut(&key) else {
                    return;
                };
                if want.asked.insert(peer.clone()) {
                    new_peers.push(peer);
                }
            }
            for peer in new_peers {
                let message = want_message(&cid, false);
                self.peers.send(peer, message);
            }
            // At most once per SEARCH_AGAIN_AFTER per root (find_providers
            // checks), however many blocks under it are wanted.
            if let Some(me) = self.me.upgrade() {
                tokio::task::spawn_local(me.find_providers(root));
            }
            tokio::time::sleep(REBROADCAST.min(deadline.saturating_duration_since(Instant::now())))
                .await;
        }
    }

    /// Tells the peers asked for `want` that it is no longer wanted.
    fn cancel(&self, want: &Want) {
        for peer in &want.asked {
            self.peers.send(peer.clone(), want_message(&want.cid, true));
        }
    }

    /// The peers the host is connected to.
    async fn connected(&self) -> Vec<String> {
        let reply = match self.host.peers_request().send().promise.await {
            Ok(reply) => reply,
            Err(e) => {
                tracing::debug!("listing peers failed: {e}");
                return Vec::new();
            }
        };
        let Ok(peers) = reply.get().and_then(|r| r.get_peers()) else {
            return Vec::new();
        };
        peers
            .iter()
            .filter_map(|p| p.get_id().ok()?.to_string().ok())
            .collect()
    }

    /// Looks up providers of `root` and connects to them (at most once per
    /// [`SEARCH_AGAIN_AFTER`] per root).
    async fn find_providers(self: Rc<Self>, root: Cid) {
        let Some(routing) = &self.routing else {
            return;
        };
        let key = root.hash().to_bytes();
        {
            let mut searched = self.searched.borrow_mut();
            if let Some(at) = searched.get(&key) {
                if at.elapsed() < SEARCH_AGAIN_AFTER {
                    return;
                }
            }
            searched.insert(key, Instant::now());
        }
        let found = Rc::new(RefCell::new(Vec::new()));
        let sink: ww_capnp::routing_capnp::provider_sink::Client =
            capnp_rpc::new_client(peers::Found(found.clone()));
        let mut request = routing.find_providers_request();
        request.get().set_key(root.to_string().as_str());
        request.get().set_count(PROVIDERS);
        request.get().set_sink(sink);
        if let Err(e) = request.send().promise.await {
            tracing::debug!(%root, "finding providers failed: {e}");
        }
        let found = std::mem::take(&mut *found.borrow_mut());
        for (peer, addrs) in found {
            for addr in addrs {
                let full = if addr.contains("/p2p/") {
                    addr
                } else {
                    format!("{addr}/p2p/{peer}")
                };
                let mut request = self.host.connect_request();
                request.get().set_addr(full.as_str());
                match request.send().promise.await {
                    Ok(_) => break,
                    Err(e) => tracing::debug!(%peer, "connecting to a provider failed: {e}"),
                }
            }
        }
    }

    /// Handles one message from `peer`.
    pub(crate) fn receive(&self, peer: &str, message: Message) {
        tracing::trace!(
            %peer,
            wants = message.wantlist.as_ref().map_or(0, |w| w.entries.len()),
            blocks = message.blocks.len() + message.payload.len(),
            presences = message.block_presences.len(),
            "bitswap message"
        );
        for data in message.blocks {
            match message::cid_v0_of(&data) {
                Ok(cid) => self.received(peer, cid, data),
                Err(e) => tracing::debug!(%peer, "bad block: {e}"),
            }
        }
        for block in message.payload {
            match message::cid_of(&block.prefix, &block.data) {
                Ok(cid) => self.received(peer, cid, block.data),
                Err(e) => tracing::debug!(%peer, "bad block: {e}"),
            }
        }
        for presence in message.block_presences {
            if presence.r#type != message::PresenceType::DontHave as i32 {
                continue;
            }
            let Ok(cid) = Cid::try_from(presence.cid.as_slice()) else {
                continue;
            };
            if let Some(want) = self.wants.borrow_mut().get_mut(&cid.hash().to_bytes()) {
                want.answered.insert(peer.to_string());
            }
        }
        if let Some(wantlist) = message.wantlist {
            self.answer(peer, wantlist);
        }
    }

    /// Blocks were added to the store locally: serves the remembered wants
    /// they meet.
    pub fn stored(&self) {
        if self.ledger.borrow().is_empty() {
            return;
        }
        let met = self.ledger.borrow_mut().take_where(|key| {
            multihash::Multihash::<64>::from_bytes(key)
                .map(|hash| self.store.has(&Cid::new_v1(crate::reader::RAW, hash)))
                .unwrap_or(false)
        });
        for (peer, want) in met {
            self.serve_remembered(&peer, &want, None);
        }
    }

    /// Sends `peer` what it asked for earlier: the block, or HAVE.
    fn serve_remembered(&self, peer: &str, want: &ledger::Remembered, data: Option<&[u8]>) {
        tracing::debug!(%peer, cid = %want.cid, "answering a remembered want");
        if !want.want_block {
            self.peers.send(
                peer.to_string(),
                Message {
                    block_presences: vec![message::BlockPresence {
                        cid: want.cid.to_bytes(),
                        r#type: message::PresenceType::Have as i32,
                    }],
                    ..Message::default()
                },
            );
            return;
        }
        let data = match data {
            Some(data) => data.to_vec(),
            None => match self.store.get(&want.cid) {
                Ok(Some(data)) => data,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(cid = %want.cid, "serving a block failed: {e}");
                    return;
                }
            },
        };
        self.peers.send(
            peer.to_string(),
            Message {
                payload: vec![message::Block {
                    prefix: message::prefix(&want.cid),
                    data,
                }],
                ..Message::default()
            },
        );
    }

    /// A block arrived: if wanted, store it and wake its waiters.
    fn received(&self, peer: &str, cid: Cid, data: Vec<u8>) {
        let key = cid.hash().to_bytes();
        let Some(want) = self.wants.borrow_mut().remove(&key) else {
            tracing::trace!(%peer, %cid, "unwanted block ignored");
            return;
        };
        // The CID was computed from the bytes, so they match it.
        if let Err(e) = self.store.put(&want.cid, &data) {
            tracing::warn!(cid = %want.cid, "storing a fetched block failed: {e}");
        }
        self.cancel(&want);
        let remembered = self.ledger.borrow_mut().take(&key);
        for (asker, wanted) in remembered {
            self.serve_remembered(&asker, &wanted, Some(&data));
        }
        for waiter in want.waiters {
            let _ = waiter.send(data.clone());
        }
    }

    /// Answers what `peer` wants from what the store holds.
    fn answer(&self, peer: &str, wantlist: Wantlist) {
        let mut presences = Vec::new();
        for entry in wantlist.entries {
            let Ok(cid) = Cid::try_from(entry.block.as_slice()) else {
                tracing::debug!(%peer, "a want names no CID");
                continue;
            };
            if entry.cancel {
                self.ledger
                    .borrow_mut()
                    .forget(peer, &cid.hash().to_bytes());
                continue;
            }
            let have = match self.store.get(&cid) {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(%cid, "serving a block failed: {e}");
                    None
                }
            };
            let want_block = entry.want_type != WantType::Have as i32;
            if have.is_none() && self.ledger.borrow_mut().remember(peer, cid, want_block) {
                tracing::debug!(%peer, %cid, "remembering a want for a block not here yet");
            }
            match have {
                Some(data) if want_block => {
                    let block = message::Block {
                        prefix: message::prefix(&cid),
                        data,
                    };
                    self.peers.send(
                        peer.to_string(),
                        Message {
                            payload: vec![block],
                            ..Message::default()
                        },
                    );
                }
                Some(_) => presences.push(message::BlockPresence {
                    cid: entry.block,
                    r#type: message::PresenceType::Have as i32,
                }),
                None if entry.send_dont_have => presences.push(message::BlockPresence {
                    cid: entry.block,
                    r#type: message::PresenceType::DontHave as i32,
                }),
                None => {}
            }
        }
        if !presences.is_empty() {
            self.peers.send(
                peer.to_string(),
                Message {
                    block_presences: presences,
                    ..Message::default()
                },
            );
        }
    }
}

/// A wantlist message asking for (or cancelling) `cid`'s block.
fn want_message(cid: &Cid, cancel: bool) -> Message {
    Message {
        wantlist: Some(Wantlist {
            entries: vec![Entry {
                block: cid.to_bytes(),
                priority: 1,
                cancel,
                want_type: WantType::Block as i32,
                send_dont_have: !cancel,
            }],
            full: false,
        }),
        ..Message::default()
    }
}
