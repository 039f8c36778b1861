//! Sending to peers: one outbound Bitswap stream per peer, written by one
//! task per peer from a bounded queue, dialed when first needed and again
//! after it fails.

use std::cell::RefCell;
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

/// Outbound streams, by peer id.
pub struct Peers {
    wire: wire::Client,
    queues: Rc<RefCell<HashMap<String, mpsc::Sender<Message>>>>,
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
            tokio::task::spawn_local(write_loop(
                self.wire.clone(),
                peer.clone(),
                rx,
                self.queues.clone(),
            ));
            tx
        });
        if let Err(e) = queue.try_send(message) {
            tracing::debug!(%peer, "a Bitswap message was dropped: {e}");
        }
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
    mut messages: mpsc::Receiver<Message>,
    queues: Rc<RefCell<HashMap<String, mpsc::Sender<Message>>>>,
) {
    let mut stream: Option<byte_stream::Client> = None;
    while let Some(message) = messages.recv().await {
        let bytes = frame(&message);
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
