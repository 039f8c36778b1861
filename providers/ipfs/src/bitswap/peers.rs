//! Sending to peers: one outbound Bitswap stream per peer, written by one
//! task per peer from a bounded queue, dialed when first needed and again
//! after it fails.
//!
//! The queue is bounded in messages and in bytes: a peer that asks for
//! blocks and never reads its stream makes the node hold at most
//! [`QUEUE_BYTES`] of encoded messages for it, not a copy of every block
//! it asked for.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use capnp::Error;
use tokio::sync::mpsc;
use ww_capnp::routing_capnp::provider_sink;
use ww_capnp::system_capnp::byte_stream;
use ww_capnp::wire_capnp::wire;

use super::message::Message;
use super::protocol::{frame, PROTOCOL_NAME};

/// Messages that may wait for one peer's stream; past it they are dropped
/// (Bitswap peers ask again).
pub const QUEUE: usize = 1024;

/// Bytes of encoded messages that may wait for (or be in the write to) one
/// peer's stream; past it new messages are dropped, as past [`QUEUE`]. A
/// message larger than this is still sent when nothing else waits.
pub const QUEUE_BYTES: usize = 8 << 20;

/// One peer's queue: framed messages, and their bytes not yet written.
#[derive(Clone)]
struct Queue {
    tx: mpsc::Sender<Vec<u8>>,
    bytes: Rc<Cell<usize>>,
}

type Queues = Rc<RefCell<HashMap<String, Queue>>>;

/// Outbound streams, by peer id.
pub struct Peers {
    wire: wire::Client,
    queues: Queues,
}

impl Peers {
    /// Dials through `wire`.
    pub fn new(wire: wire::Client) -> Peers {
        Peers {
            wire,
            queues: Rc::default(),
        }
    }

    /// Queues `message` for `peer` (never waits).
    pub fn send(&self, peer: String, message: Message) {
        tracing::trace!(%peer, "bitswap send");
        let mut queues = self.queues.borrow_mut();
        let queue = queues.entry(peer.clone()).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            let bytes = Rc::new(Cell::new(0));
            tokio::task::spawn_local(write_loop(
                self.wire.clone(),
                peer.clone(),
                rx,
                bytes.clone(),
                self.queues.clone(),
            ));
            Queue { tx, bytes }
        });
        let framed = frame(&message);
        let (len, queued) = (framed.len(), queue.bytes.get());
        if queued > 0 && queued + len > QUEUE_BYTES {
            tracing::debug!(
                %peer,
                queued,
                "a Bitswap message was dropped: the peer is not reading what it asked for"
            );
            return;
        }
        match queue.tx.try_send(framed) {
            Ok(()) => queue.bytes.set(queued + len),
            Err(e) => tracing::debug!(%peer, "a Bitswap message was dropped: {e}"),
        }
    }

    /// Bytes waiting for `peer`'s stream.
    #[cfg(test)]
    pub fn queued_bytes(&self, peer: &str) -> usize {
        self.queues.borrow().get(peer).map_or(0, |q| q.bytes.get())
    }
}

async fn dial(wire: &wire::Client, peer: &str) -> Result<byte_stream::Client, Error> {
    let mut request = wire.dial_request();
    request.get().set_peer(peer);
    request.get().set_protocol(PROTOCOL_NAME);
    request.send().promise.await?.get()?.get_stream()
}

async fn write(stream: &byte_stream::Client, bytes: &[u8]) -> Result<(), Error> {
    let mut request = stream.write_request();
    request.get().set_data(bytes);
    request.send().await
}

async fn write_loop(
    wire: wire::Client,
    peer: String,
    mut messages: mpsc::Receiver<Vec<u8>>,
    queued: Rc<Cell<usize>>,
    queues: Queues,
) {
    let mut stream: Option<byte_stream::Client> = None;
    while let Some(bytes) = messages.recv().await {
        // Counted until written (or given up on).
        let _written = Unqueue(&queued, bytes.len());
        // A stream that failed is dialed again, once per message.
        let mut sent = false;
        for _ in 0..2 {
            let current = match stream.take() {
                Some(s) => s,
                None => match dial(&wire, &peer).await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::debug!(%peer, "opening Bitswap failed: {e}");
                        break;
                    }
                },
            };
            match write(&current, &bytes).await {
                Ok(()) => {
                    stream = Some(current);
                    sent = true;
                    break;
                }
                Err(e) => tracing::debug!(%peer, "writing to Bitswap failed: {e}"),
            }
        }
        if !sent && stream.is_none() {
            // The peer is unreachable: forget it, so a later send dials anew.
            queues.borrow_mut().remove(&peer);
            return;
        }
    }
}

/// Takes a message's bytes off its queue's count when dropped.
struct Unqueue<'a>(&'a Cell<usize>, usize);

impl Drop for Unqueue<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(self.1));
    }
}

/// Providers found: peer id and its addresses.
pub type Providers = Rc<RefCell<Vec<(String, Vec<String>)>>>;

/// Collects the providers `routing.findProviders` streams.
pub struct Found(pub Providers);

impl provider_sink::Server for Found {
    async fn found(self: Rc<Self>, params: provider_sink::FoundParams) -> Result<(), Error> {
        let params = params.get()?;
        let peer = params.get_peer()?.to_string()?;
        let addrs = params
            .get_addrs()?
            .iter()
            .filter_map(|a| a.ok()?.to_string().ok())
            .collect();
        self.0.borrow_mut().push((peer, addrs));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bitswap::message;

    /// A peer that opens its stream and never reads it: every write waits.
    struct Stalled;

    impl wire::Server for Stalled {
        async fn dial(
            self: Rc<Self>,
            _: wire::DialParams,
            mut results: wire::DialResults,
        ) -> Result<(), Error> {
            results.get().set_stream(capnp_rpc::new_client(Stalled));
            Ok(())
        }
    }

    impl byte_stream::Server for Stalled {
        async fn write(self: Rc<Self>, _: byte_stream::WriteParams) -> Result<(), Error> {
            std::future::pending().await
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_peer_that_does_not_read_is_owed_at_most_queue_bytes() {
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let peers = Peers::new(capnp_rpc::new_client(Stalled));
                let block = |n: u8| Message {
                    payload: vec![message::Block {
                        prefix: vec![1, 0x55, 0x12, 0x20],
                        data: vec![n; 256 << 10],
                    }],
                    ..Message::default()
                };
                // Four times the bound in 256 KiB blocks, as a peer asking
                // for every block it knows of would be sent.
                for n in 0..(4 * QUEUE_BYTES / (256 << 10)) {
                    peers.send("hostile".into(), block(n as u8));
                    tokio::task::yield_now().await;
                }
                let queued = peers.queued_bytes("hostile");
                assert!(queued > 0 && queued <= QUEUE_BYTES, "{queued}");
                // Another peer is still served.
                peers.send("other".into(), block(0));
                assert!(peers.queued_bytes("other") > 0);
            })
            .await;
    }
}
