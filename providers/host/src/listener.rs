//! `StreamListener`: a cell accepts streams on its own protocol.

use std::cell::RefCell;
use std::rc::Rc;

use capnp::Error;
use tokio::sync::oneshot;
use ww_capnp::system_capnp::{byte_stream, stream_handler, stream_listener};

use crate::byte_stream::ByteStreamImpl;
use crate::network::Network;

/// Serves `StreamListener`: each admitted inbound stream becomes a
/// `ByteStream` handed to the cell's `StreamHandler`.
pub struct StreamListenerImpl {
    network: Network,
    /// One per protocol this capability listens on: dropping the
    /// capability (or ending the cell) stops them all.
    owners: RefCell<Vec<oneshot::Sender<()>>>,
}

impl StreamListenerImpl {
    fn owner(&self) -> oneshot::Receiver<()> {
        let (owner, owned) = oneshot::channel();
        self.owners.borrow_mut().push(owner);
        owned
    }

    /// Listens through `network`.
    pub fn new(network: Network) -> Self {
        StreamListenerImpl {
            network,
            owners: RefCell::default(),
        }
    }
}

impl stream_listener::Server for StreamListenerImpl {
    async fn listen(
        self: Rc<Self>,
        params: stream_listener::ListenParams,
        _: stream_listener::ListenResults,
    ) -> Result<(), Error> {
        let params = params.get()?;
        let name = params
            .get_protocol()?
            .to_str()
            .map_err(|e| Error::failed(format!("protocol is not UTF-8: {e}")))?
            .to_string();
        let handler: stream_handler::Client = params.get_handler()?;
        let protocol = self.network.accept(
            &name,
            self.network.stream_admission(),
            self.owner(),
            move |peer, stream, permit| {
                let handler = handler.clone();
                async move {
                    let cap: byte_stream::Client =
                        crate::byte_stream::client(ByteStreamImpl::new(stream, Some(permit)));
                    let mut request = handler.handle_request();
                    request.get().set_peer(peer.to_base58().as_str());
                    request.get().set_stream(cap);
                    match request.send().promise.await {
                        Ok(_) => true,
                        // The cell is gone: stop accepting for it.
                        Err(e) if e.kind == capnp::ErrorKind::Disconnected => {
                            tracing::debug!("stream handler disconnected ({e}); listener stops");
                            false
                        }
                        Err(e) => {
                            tracing::debug!(%peer, "stream handler failed: {e}");
                            true
                        }
                    }
                }
            },
        )?;
        tracing::debug!(%protocol, "cell listens");
        Ok(())
    }
}
