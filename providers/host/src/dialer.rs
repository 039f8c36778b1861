//! `StreamDialer`: a cell opens a stream to another node's cell.

use std::rc::Rc;

use capnp::Error;
use ww_capnp::system_capnp::{byte_stream, stream_dialer};

use crate::byte_stream::ByteStreamImpl;
use crate::network::Network;

/// Serves `StreamDialer`.
pub struct StreamDialerImpl {
    network: Network,
}

impl StreamDialerImpl {
    /// Dials through `network`.
    pub fn new(network: Network) -> Self {
        StreamDialerImpl { network }
    }
}

impl stream_dialer::Server for StreamDialerImpl {
    async fn dial(
        self: Rc<Self>,
        params: stream_dialer::DialParams,
        mut results: stream_dialer::DialResults,
    ) -> Result<(), Error> {
        let params = params.get()?;
        let peer = text(params.get_peer()?, "peer")?;
        let protocol = text(params.get_protocol()?, "protocol")?;
        let stream = self.network.open(&peer, &protocol).await?;
        let cap: byte_stream::Client =
            crate::byte_stream::client(ByteStreamImpl::new(stream, None));
        results.get().set_stream(cap);
        Ok(())
    }
}

/// A text parameter as a `String`, or an error naming it.
pub(crate) fn text(reader: capnp::text::Reader<'_>, what: &str) -> Result<String, Error> {
    reader
        .to_string()
        .map_err(|e| Error::failed(format!("{what} is not UTF-8: {e}")))
}
