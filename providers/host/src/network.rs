//! What `Host.network()` hands out shares: opening streams to peers and
//! accepting them on a protocol, with the verdict handshake and admission
//! limits. The four capabilities (`listener.rs`, `dialer.rs`, `vat.rs`) are
//! thin servers over this.

use std::future::Future;
use std::rc::Rc;
use std::str::FromStr;

use capnp::Error;
use futures::StreamExt;
use libp2p::{PeerId, Stream, StreamProtocol};
use libp2p_stream::{IncomingStreams, OpenStreamError};
use tokio::sync::oneshot;

use crate::admission::{Admission, Limits, Permit};
use crate::handle::SwarmHandle;
use crate::protocol;

/// The swarm handle and the admission limits every listener gets.
#[derive(Clone, Debug)]
pub struct Network {
    /// The swarm.
    pub swarm: SwarmHandle,
    /// Bounds for each byte-stream protocol.
    pub limits: Limits,
    /// Bounds for each vat protocol.
    pub vat_limits: Limits,
}

impl Network {
    /// Opens a stream to `peer` on the cell protocol `name` and waits
    /// (bounded) for the remote's admission verdict.
    ///
    /// # Errors
    ///
    /// A malformed peer id or protocol, a peer that cannot be reached or does
    /// not serve the protocol, a refusal (with the remote's reason), or the
    /// timeout.
    pub async fn open(&self, peer: &str, name: &str) -> Result<Stream, Error> {
        let peer_id = parse_peer(peer)?;
        let protocol = protocol::namespaced(name)?;
        if peer_id == self.swarm.peer_id() {
            return Err(Error::failed(format!(
                "{peer} is this node; dial another node (a cell reaches its own node's \
                 listeners through capabilities, not the network)"
            )));
        }
        let timeout = self.swarm.dial_timeout();
        let mut control = self.swarm.control();
        let opened = async {
            let mut stream = control
                .open_stream(peer_id, protocol.clone())
                .await
                .map_err(|e| open_error(peer, &protocol, e))?;
            protocol::verdict(&mut stream).await.map_err(|reason| {
                Error::failed(format!(
                    "{peer} did not admit a stream on {protocol}: {reason}"
                ))
            })?;
            Ok(stream)
        };
        match tokio::time::timeout(timeout, opened).await {
            Ok(result) => result,
            Err(_) => Err(Error::failed(format!(
                "opening {protocol} to {peer} timed out after {}s; connect to the peer first \
                 (Host.connect) and check that it listens on {protocol}",
                timeout.as_secs_f32()
            ))),
        }
    }

    /// Admission for a byte-stream protocol.
    pub fn stream_admission(&self) -> Admission {
        Admission::new(self.limits, "streams")
    }

    /// Admission for a vat protocol.
    pub fn vat_admission(&self) -> Admission {
        Admission::new(self.vat_limits, "vats")
    }

    /// Starts accepting streams on the cell protocol `name`. Each stream
    /// within `admission`'s limits is admitted and handed to `on_stream`; the rest are
    /// refused with the limit they hit. Accepting stops when `owner` is
    /// dropped (the capability that started it was released) or when
    /// `on_stream`'s future returns `false` (its consumer is gone); the
    /// protocol is then free to listen on again.
    ///
    /// # Errors
    ///
    /// A bad protocol name, or one that already has a listener on this node.
    pub fn accept<F, Fut>(
        &self,
        name: &str,
        admission: Admission,
        owner: oneshot::Receiver<()>,
        on_stream: F,
    ) -> Result<StreamProtocol, Error>
    where
        F: Fn(PeerId, Stream, Permit) -> Fut + 'static,
        Fut: Future<Output = bool> + 'static,
    {
        let protocol = protocol::namespaced(name)?;
        let incoming = self.swarm.control().accept(protocol.clone()).map_err(|_| {
            Error::failed(format!(
                "{protocol} already has a listener on this node; choose another protocol name"
            ))
        })?;
        tokio::task::spawn_local(accept_loop(
            protocol.clone(),
            incoming,
            admission,
            owner,
            Rc::new(on_stream),
        ));
        Ok(protocol)
    }
}

async fn accept_loop<F, Fut>(
    protocol: StreamProtocol,
    mut incoming: IncomingStreams,
    admission: Admission,
    mut owner: oneshot::Receiver<()>,
    on_stream: Rc<F>,
) where
    F: Fn(PeerId, Stream, Permit) -> Fut + 'static,
    Fut: Future<Output = bool> + 'static,
{
    let (stop_tx, mut stop) = tokio::sync::mpsc::channel::<()>(1);
    loop {
        let (peer, mut stream) = tokio::select! {
            next = incoming.next() => match next {
                Some(next) => next,
                None => break,
            },
            _ = stop.recv() => break,
            _ = &mut owner => break,
        };
        match admission.admit(peer) {
            Err(reason) => {
                tracing::debug!(%peer, %protocol, %reason, "inbound stream refused");
                tokio::task::spawn_local(protocol::refuse(stream, reason));
            }
            Ok(permit) => {
                let on_stream = on_stream.clone();
                let stop_tx = stop_tx.clone();
                tokio::task::spawn_local(async move {
                    if let Err(e) = protocol::accept(&mut stream).await {
                        tracing::debug!(%peer, "admitting a stream failed: {e}");
                        return;
                    }
                    if !on_stream(peer, stream, permit).await {
                        let _ = stop_tx.try_send(());
                    }
                });
            }
        }
    }
    tracing::debug!(%protocol, "no longer accepting streams");
}

/// The PeerId in `text`.
///
/// # Errors
///
/// When `text` is not a PeerId, saying where to get one.
pub fn parse_peer(text: &str) -> Result<PeerId, Error> {
    PeerId::from_str(text.trim()).map_err(|e| {
        Error::failed(format!(
            "`{text}` is not a peer id ({e}); use the other node's `host id` (12D3KooW…)"
        ))
    })
}

fn open_error(peer: &str, protocol: &StreamProtocol, e: OpenStreamError) -> Error {
    match e {
        OpenStreamError::UnsupportedProtocol(_) => Error::failed(format!(
            "{peer} does not serve {protocol} (no cell there listens on it); check the \
             protocol name"
        )),
        OpenStreamError::Io(e) => Error::failed(format!(
            "cannot open {protocol} to {peer}: {e}; connect first (Host.connect) and check the \
             peer is up"
        )),
        e => Error::failed(format!("cannot open {protocol} to {peer}: {e}")),
    }
}
