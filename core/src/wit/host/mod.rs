//! `wetware:host/host`: the libp2p host and byte-stream protocols,
//! forwarded to the guarded `Host`, `StreamListener` and `StreamDialer`.
//!
//! `listen` hands the provider a `StreamHandler` that queues inbound streams
//! (at most [`BACKLOG`] waiting; past that the handler waits, and so does
//! the provider's admission of that stream) for `incoming.accept`.

use std::rc::Rc;

use tokio::sync::{mpsc, Mutex};
use wasmtime::component::Resource;
use ww_provider_sdk::capnp;
use ww_provider_sdk::ww_capnp::system_capnp::{
    byte_stream, host, stream_dialer, stream_handler, stream_listener,
};

use super::streams::ByteStream;
use super::wetware::host::host::{
    Host, HostIncoming, HostNode, HostStreamDialer, HostStreamListener, Inbound, Network, PeerInfo,
};
use super::{local, wit, Local, WitCtxView, WitError};

/// Inbound streams waiting for `incoming.accept`, per listen.
const BACKLOG: usize = 16;

/// The guest's handle on a guarded `Host`.
pub struct Node(pub(crate) Local<host::Client>);

/// The guest's handle on a guarded `StreamListener`.
pub struct StreamListener(Local<stream_listener::Client>);

/// The guest's handle on a guarded `StreamDialer`.
pub struct StreamDialer(Local<stream_dialer::Client>);

/// Inbound streams (the dialing peer, the stream) in arrival order; shared
/// so `accept` can wait without holding the resource table.
type Inbox = Rc<Mutex<mpsc::Receiver<(String, byte_stream::Client)>>>;

/// Streams accepted on one protocol, waiting for the guest.
pub struct Incoming {
    queue: Local<Inbox>,
}

type Answer<T> = wasmtime::Result<Result<T, WitError>>;

/// Receives the provider's `handle` calls for one `listen`.
struct Queue(mpsc::Sender<(String, byte_stream::Client)>);

impl stream_handler::Server for Queue {
    async fn handle(
        self: Rc<Self>,
        params: stream_handler::HandleParams,
        _: stream_handler::HandleResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let peer = params.get_peer()?.to_string()?;
        let stream = params.get_stream()?;
        self.0.send((peer, stream)).await.map_err(|_| {
            capnp::Error::disconnected("the cell no longer accepts streams on this protocol".into())
        })
    }
}

impl Host for WitCtxView<'_> {}

impl HostNode for WitCtxView<'_> {
    async fn id(&mut self, this: Resource<Node>) -> Answer<String> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let reply = cap.id_request().send().promise.await?;
            Ok(reply.get()?.get_peer_id()?.to_string()?)
        })
        .await))
    }

    async fn addrs(&mut self, this: Resource<Node>) -> Answer<Vec<String>> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let reply = cap.addrs_request().send().promise.await?;
            texts(reply.get()?.get_addrs()?)
        })
        .await))
    }

    async fn peers(&mut self, this: Resource<Node>) -> Answer<Vec<PeerInfo>> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let reply = cap.peers_request().send().promise.await?;
            reply
                .get()?
                .get_peers()?
                .iter()
                .map(|p| {
                    Ok(PeerInfo {
                        id: p.get_id()?.to_string()?,
                        addrs: texts(p.get_addrs()?)?,
                    })
                })
                .collect()
        })
        .await))
    }

    async fn connect(&mut self, this: Resource<Node>, addr: String) -> Answer<()> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let mut request = cap.connect_request();
            request.get().set_addr(addr.as_str());
            request.send().promise.await?;
            Ok(())
        })
        .await))
    }

    async fn network(&mut self, this: Resource<Node>) -> Answer<Network> {
        let cap = (*self.table.get(&this)?.0).clone();
        let pair = local(async move {
            let reply = cap.network_request().send().promise.await?;
            let reply = reply.get()?;
            Ok::<_, capnp::Error>((
                Local::new(reply.get_listener()?),
                Local::new(reply.get_dialer()?),
            ))
        })
        .await;
        Ok(match wit(pair) {
            Ok((listener, dialer)) => Ok(Network {
                listener: self.table.push(StreamListener(listener))?,
                dialer: self.table.push(StreamDialer(dialer))?,
            }),
            Err(e) => Err(e),
        })
    }

    async fn drop(&mut self, this: Resource<Node>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl HostStreamListener for WitCtxView<'_> {
    async fn listen(
        &mut self,
        this: Resource<StreamListener>,
        protocol: String,
    ) -> Answer<Resource<Incoming>> {
        let cap = (*self.table.get(&this)?.0).clone();
        let queue = local(async move {
            let (tx, rx) = mpsc::channel(BACKLOG);
            let mut request = cap.listen_request();
            request.get().set_protocol(protocol.as_str());
            request.get().set_handler(capnp_rpc::new_client(Queue(tx)));
            request.send().promise.await?;
            Ok::<_, capnp::Error>(Local::new(Rc::new(Mutex::new(rx))))
        })
        .await;
        Ok(match wit(queue) {
            Ok(queue) => Ok(self.table.push(Incoming { queue })?),
            Err(e) => Err(e),
        })
    }

    async fn drop(&mut self, this: Resource<StreamListener>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl HostIncoming for WitCtxView<'_> {
    async fn accept(&mut self, this: Resource<Incoming>) -> Answer<Inbound> {
        let queue = (*self.table.get(&this)?.queue).clone();
        let next = local(async move {
            let next = queue.lock().await.recv().await;
            next.map(|(peer, stream)| (peer, Local::new(stream)))
        })
        .await;
        Ok(match next {
            Some((peer, stream)) => Ok(Inbound {
                peer,
                stream: self.table.push(ByteStream::new(stream.take()))?,
            }),
            None => Err(WitError::Disconnected(
                "this protocol is no longer listened on (the listener was released or its epoch ended)".into(),
            )),
        })
    }

    async fn drop(&mut self, this: Resource<Incoming>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl HostStreamDialer for WitCtxView<'_> {
    async fn dial(
        &mut self,
        this: Resource<StreamDialer>,
        peer: String,
        protocol: String,
    ) -> Answer<Resource<ByteStream>> {
        let cap = (*self.table.get(&this)?.0).clone();
        let stream = local(async move {
            let mut request = cap.dial_request();
            request.get().set_peer(peer.as_str());
            request.get().set_protocol(protocol.as_str());
            let reply = request.send().promise.await?;
            Ok::<_, capnp::Error>(Local::new(reply.get()?.get_stream()?))
        })
        .await;
        Ok(match wit(stream) {
            Ok(stream) => Ok(self.table.push(ByteStream::new(stream.take()))?),
            Err(e) => Err(e),
        })
    }

    async fn drop(&mut self, this: Resource<StreamDialer>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

fn texts(list: capnp::text_list::Reader<'_>) -> capnp::Result<Vec<String>> {
    list.iter().map(|t| Ok(t?.to_string()?)).collect()
}
