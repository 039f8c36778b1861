//! `Dht`: the swarm's Kademlia, for other providers only (the routing
//! provider attenuates it for cells).

use std::rc::Rc;

use capnp::Error;
use tokio::sync::{mpsc, oneshot};
use ww_capnp::dht_capnp::dht;

use crate::error::to_capnp;
use crate::handle::{Command, SwarmHandle};

/// The most providers one `findProviders` call returns.
pub const MAX_FIND: u32 = 256;

/// Serves `Dht` from a [`SwarmHandle`].
pub struct DhtImpl {
    swarm: SwarmHandle,
}

impl DhtImpl {
    /// Serves `swarm`'s DHT.
    pub fn new(swarm: SwarmHandle) -> Self {
        DhtImpl { swarm }
    }
}

async fn answer(reply: oneshot::Receiver<Result<(), String>>) -> Result<(), Error> {
    match reply.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Error::failed(e)),
        Err(_) => Err(Error::disconnected(
            "the libp2p swarm stopped during the query".into(),
        )),
    }
}

impl dht::Server for DhtImpl {
    async fn provide(
        self: Rc<Self>,
        params: dht::ProvideParams,
        _: dht::ProvideResults,
    ) -> Result<(), Error> {
        let key = params.get()?.get_key()?.to_vec();
        let (reply, answered) = oneshot::channel();
        self.swarm
            .send(Command::Provide { key, reply })
            .map_err(to_capnp)?;
        answer(answered).await
    }

    async fn find_providers(
        self: Rc<Self>,
        params: dht::FindProvidersParams,
        _: dht::FindProvidersResults,
    ) -> Result<(), Error> {
        let params = params.get()?;
        let key = params.get_key()?.to_vec();
        let count = params.get_count().clamp(1, MAX_FIND) as usize;
        let sink = params.get_sink()?;
        let (found, mut providers) = mpsc::channel(count);
        let (reply, answered) = oneshot::channel();
        self.swarm
            .send(Command::FindProviders {
                key,
                count,
                found,
                reply,
            })
            .map_err(to_capnp)?;
        while let Some((peer, addrs)) = providers.recv().await {
            let mut request = sink.found_request();
            request.get().set_peer(peer.to_base58().as_str());
            let mut list = request.get().init_addrs(addrs.len() as u32);
            for (i, addr) in addrs.iter().enumerate() {
                list.set(i as u32, addr.to_string().as_str());
            }
            request.send().await?;
        }
        answer(answered).await
    }
}
