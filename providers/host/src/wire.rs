//! `Wire`: standard libp2p stream protocols for other providers (never for
//! cells), e.g. `/ipfs/bitswap/1.2.0` for the IPFS provider.
//!
//! Unlike cells' protocols ([`protocol`](crate::protocol)), these keep the
//! exact name other implementations use and carry no admission byte: the
//! bytes on the stream are the protocol's own. The swarm's own protocols
//! (Kademlia, Identify, Ping) and the cells' `/ww/` namespace are refused.

use std::rc::Rc;
use std::time::Duration;

use capnp::Error;
use futures::StreamExt;
use libp2p::StreamProtocol;
use ww_capnp::system_capnp::{byte_stream, stream_handler};
use ww_capnp::wire_capnp::wire;

use crate::behaviour::KAD_PROTOCOL;
use crate::byte_stream::ByteStreamImpl;
use crate::dialer::text;
use crate::handle::SwarmHandle;
use crate::network::parse_peer;
use crate::protocol::NAMESPACE;

/// Serves `Wire` from a [`SwarmHandle`].
pub struct WireImpl {
    swarm: SwarmHandle,
}

impl WireImpl {
    /// Serves `swarm`'s streams.
    pub fn new(swarm: SwarmHandle) -> Self {
        WireImpl { swarm }
    }
}

/// `name` as a protocol a provider may use.
///
/// # Errors
///
/// A name under `/ww/`, one of the swarm's own protocols, or invalid.
pub fn provider_protocol(name: &str) -> Result<StreamProtocol, Error> {
    let name = name.trim();
    let reserved = ["/ipfs/id/1.0.0", "/ipfs/id/push/1.0.0", "/ipfs/ping/1.0.0"];
    if name.starts_with(NAMESPACE) || name == KAD_PROTOCOL.as_ref() || reserved.contains(&name) {
        return Err(Error::failed(format!(
            "protocol `{name}` belongs to the swarm or to cells (/ww/); a provider listens on a \
             protocol of its own, e.g. /ipfs/bitswap/1.2.0"
        )));
    }
    if !name.starts_with('/') || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::failed(format!(
            "protocol `{name}` must start with `/` and contain no whitespace"
        )));
    }
    StreamProtocol::try_from_owned(name.to_string())
        .map_err(|e| Error::failed(format!("protocol `{name}` is not valid: {e}")))
}

impl wire::Server for WireImpl {
    async fn listen(
        self: Rc<Self>,
        params: wire::ListenParams,
        _: wire::ListenResults,
    ) -> Result<(), Error> {
        let params = params.get()?;
        let protocol = provider_protocol(&text(params.get_protocol()?, "protocol")?)?;
        let handler: stream_handler::Client = params.get_handler()?;
        let mut incoming = self.swarm.control().accept(protocol.clone()).map_err(|_| {
            Error::failed(format!(
                "{protocol} already has a listener on this node (two providers serving it?)"
            ))
        })?;
        // One stream is handed over at a time (a handler returns once it
        // has taken the stream); the rest wait in libp2p-stream's bounded
        // queue.
        tokio::task::spawn_local(async move {
            while let Some((peer, stream)) = incoming.next().await {
                let cap: byte_stream::Client =
                    crate::byte_stream::client(ByteStreamImpl::new(stream, None));
                let mut request = handler.handle_request();
                request.get().set_peer(peer.to_base58().as_str());
                request.get().set_stream(cap);
                match request.send().promise.await {
                    Ok(_) => {}
                    Err(e) if e.kind == capnp::ErrorKind::Disconnected => {
                        tracing::debug!("{protocol} handler disconnected ({e}); listener stops");
                        break;
                    }
                    Err(e) => tracing::debug!(%peer, "{protocol} handler failed: {e}"),
                }
            }
        });
        Ok(())
    }

    async fn dial(
        self: Rc<Self>,
        params: wire::DialParams,
        mut results: wire::DialResults,
    ) -> Result<(), Error> {
        let params = params.get()?;
        let peer_text = text(params.get_peer()?, "peer")?;
        let peer = parse_peer(&peer_text)?;
        let protocol = provider_protocol(&text(params.get_protocol()?, "protocol")?)?;
        let timeout: Duration = self.swarm.dial_timeout();
        let mut control = self.swarm.control();
        let stream = match tokio::time::timeout(
            timeout,
            control.open_stream(peer, protocol.clone()),
        )
        .await
        {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                return Err(Error::failed(format!(
                    "cannot open {protocol} to {peer_text}: {e}"
                )))
            }
            Err(_) => {
                return Err(Error::failed(format!(
                    "opening {protocol} to {peer_text} timed out after {}s; is the peer connected?",
                    timeout.as_secs_f32()
                )))
            }
        };
        let cap: byte_stream::Client =
            crate::byte_stream::client(ByteStreamImpl::new(stream, None));
        results.get().set_stream(cap);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::provider_protocol;

    #[test]
    fn providers_get_standard_names_but_not_the_swarms_or_cells() {
        assert_eq!(
            provider_protocol(" /ipfs/bitswap/1.2.0 ").unwrap().as_ref(),
            "/ipfs/bitswap/1.2.0"
        );
        for name in [
            "/ww/echo",
            "/ww/kad/1.0.0",
            "/ipfs/id/1.0.0",
            "/ipfs/ping/1.0.0",
        ] {
            let err = provider_protocol(name).unwrap_err().to_string();
            assert!(
                err.contains("belongs to the swarm or to cells"),
                "{name}: {err}"
            );
        }
        for name in ["bitswap", "/a b", ""] {
            assert!(provider_protocol(name).is_err(), "{name}");
        }
    }
}
