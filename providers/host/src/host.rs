//! `Host`: what a cell sees of the node's libp2p host.

use std::rc::Rc;

use capnp::Error;
use libp2p::multiaddr::Protocol;
use ww_capnp::system_capnp::host;

use crate::admission::Limits;
use crate::dialer::StreamDialerImpl;
use crate::error::to_capnp;
use crate::handle::SwarmHandle;
use crate::listener::StreamListenerImpl;
use crate::network::Network;
use crate::vat::{VatClientImpl, VatListenerImpl};

/// Serves `Host` from a [`SwarmHandle`]: reads come from the swarm's
/// snapshot and never wait; `connect` waits for the dial, bounded.
pub struct HostImpl {
    swarm: SwarmHandle,
    limits: Limits,
    vat_limits: Limits,
}

impl HostImpl {
    /// Serves `swarm`; the listeners it hands out admit byte streams within
    /// `limits` and vats within `vat_limits`.
    pub fn new(swarm: SwarmHandle, limits: Limits, vat_limits: Limits) -> Self {
        HostImpl {
            swarm,
            limits,
            vat_limits,
        }
    }
}

impl host::Server for HostImpl {
    async fn id(
        self: Rc<Self>,
        _: host::IdParams,
        mut results: host::IdResults,
    ) -> Result<(), Error> {
        results
            .get()
            .set_peer_id(self.swarm.peer_id().to_base58().as_str());
        Ok(())
    }

    async fn addrs(
        self: Rc<Self>,
        _: host::AddrsParams,
        mut results: host::AddrsResults,
    ) -> Result<(), Error> {
        let me = self.swarm.peer_id();
        let addrs = self.swarm.snapshot().listen;
        let mut list = results.get().init_addrs(len(addrs.len())?);
        for (i, addr) in addrs.into_iter().enumerate() {
            // Dialable as is: the /p2p suffix is what `connect` requires.
            list.set(len(i)?, addr.with(Protocol::P2p(me)).to_string().as_str());
        }
        Ok(())
    }

    async fn peers(
        self: Rc<Self>,
        _: host::PeersParams,
        mut results: host::PeersResults,
    ) -> Result<(), Error> {
        let peers = self.swarm.snapshot().peers;
        let mut list = results.get().init_peers(len(peers.len())?);
        for (i, (peer, addrs)) in peers.into_iter().enumerate() {
            let mut info = list.reborrow().get(len(i)?);
            info.set_id(peer.to_base58().as_str());
            let mut out = info.init_addrs(len(addrs.len())?);
            for (j, addr) in addrs.into_iter().enumerate() {
                out.set(len(j)?, addr.to_string().as_str());
            }
        }
        Ok(())
    }

    async fn connect(
        self: Rc<Self>,
        params: host::ConnectParams,
        _: host::ConnectResults,
    ) -> Result<(), Error> {
        let addr = params
            .get()?
            .get_addr()?
            .to_string()
            .map_err(|e| Error::failed(format!("the address is not UTF-8: {e}")))?;
        self.swarm.connect(&addr).await.map_err(to_capnp)
    }

    async fn network(
        self: Rc<Self>,
        _: host::NetworkParams,
        mut results: host::NetworkResults,
    ) -> Result<(), Error> {
        let network = Network {
            swarm: self.swarm.clone(),
            limits: self.limits,
            vat_limits: self.vat_limits,
        };
        let mut r = results.get();
        r.set_listener(capnp_rpc::new_client(StreamListenerImpl::new(
            network.clone(),
        )));
        r.set_dialer(capnp_rpc::new_client(StreamDialerImpl::new(
            network.clone(),
        )));
        r.set_vat_listener(capnp_rpc::new_client(VatListenerImpl::new(network.clone())));
        r.set_vat_client(capnp_rpc::new_client(VatClientImpl::new(network)));
        Ok(())
    }
}

fn len(n: usize) -> Result<u32, Error> {
    u32::try_from(n).map_err(|_| Error::failed("list too long for Cap'n Proto".into()))
}
