//! Receiving: every inbound Bitswap stream is read to its end, each message
//! handed to the engine.

use std::rc::{Rc, Weak};

use capnp::Error;
use ww_capnp::system_capnp::stream_handler;

use super::protocol::Reader;
use super::Bitswap;

/// Serves `StreamHandler` for the Bitswap protocol.
pub struct Inbound {
    bitswap: Weak<Bitswap>,
}

impl Inbound {
    /// Hands messages to `bitswap` while it lives.
    pub fn new(bitswap: Weak<Bitswap>) -> Inbound {
        Inbound { bitswap }
    }
}

impl stream_handler::Server for Inbound {
    async fn handle(
        self: Rc<Self>,
        params: stream_handler::HandleParams,
        _: stream_handler::HandleResults,
    ) -> Result<(), Error> {
        let params = params.get()?;
        let peer = params
            .get_peer()?
            .to_string()
            .map_err(|e| Error::failed(format!("peer id is not UTF-8: {e}")))?;
        let stream = params.get_stream()?;
        let bitswap = self.bitswap.clone();
        tokio::task::spawn_local(async move {
            let mut reader = Reader::new(stream);
            loop {
                match reader.next().await {
                    Ok(Some(message)) => match bitswap.upgrade() {
                        Some(b) => b.receive(&peer, message),
                        None => return,
                    },
                    Ok(None) => return,
                    Err(e) => {
                        tracing::debug!(%peer, "Bitswap stream ended: {e}");
                        return;
                    }
                }
            }
        });
        Ok(())
    }
}
