//! `VatListener` / `VatClient`: a capability served on a libp2p protocol,
//! called from another node as if it were local.
//!
//! Each admitted stream carries one Cap'n Proto two-party vat whose
//! bootstrap is the served capability. A remote that sends garbage ends its
//! own vat (capnp-rpc refuses the frame); the node and other vats go on.

use std::cell::RefCell;
use std::rc::Rc;

use capnp::capability::Client;
use capnp::Error;
use capnp_rpc::rpc_twoparty_capnp::Side;
use capnp_rpc::{twoparty, RpcSystem};
use futures::AsyncReadExt;
use libp2p::Stream;
use tokio::sync::oneshot;
use ww_capnp::system_capnp::{vat_client, vat_listener};

use crate::dialer::text;
use crate::network::Network;

/// Serves `VatListener`.
pub struct VatListenerImpl {
    network: Network,
    /// One per protocol this capability listens on: dropping the
    /// capability (or ending the cell) stops them all.
    owners: RefCell<Vec<oneshot::Sender<()>>>,
}

impl VatListenerImpl {
    fn owner(&self) -> oneshot::Receiver<()> {
        let (owner, owned) = oneshot::channel();
        self.owners.borrow_mut().push(owner);
        owned
    }

    /// Serves vats through `network`.
    pub fn new(network: Network) -> Self {
        VatListenerImpl {
            network,
            owners: RefCell::default(),
        }
    }
}

impl vat_listener::Server for VatListenerImpl {
    async fn serve(
        self: Rc<Self>,
        params: vat_listener::ServeParams,
        _: vat_listener::ServeResults,
    ) -> Result<(), Error> {
        let params = params.get()?;
        let name = text(params.get_protocol()?, "protocol")?;
        let cap: Client = params.get_cap().get_as_capability()?;
        let protocol = self.network.accept(
            &name,
            self.network.vat_admission(),
            self.owner(),
            move |peer, stream, permit| {
                let cap = cap.clone();
                async move {
                    let system = rpc_system(stream, Side::Server, Some(cap));
                    if let Err(e) = system.await {
                        tracing::debug!(%peer, "served vat ended: {e}");
                    }
                    drop(permit);
                    true
                }
            },
        )?;
        tracing::debug!(%protocol, "cell serves a vat");
        Ok(())
    }
}

/// Serves `VatClient`.
pub struct VatClientImpl {
    network: Network,
}

impl VatClientImpl {
    /// Dials vats through `network`.
    pub fn new(network: Network) -> Self {
        VatClientImpl { network }
    }
}

impl vat_client::Server for VatClientImpl {
    async fn dial(
        self: Rc<Self>,
        params: vat_client::DialParams,
        mut results: vat_client::DialResults,
    ) -> Result<(), Error> {
        let params = params.get()?;
        let peer = text(params.get_peer()?, "peer")?;
        let protocol = text(params.get_protocol()?, "protocol")?;
        let stream = self.network.open(&peer, &protocol).await?;
        let mut system = rpc_system(stream, Side::Client, None);
        let remote: Client = system.bootstrap(Side::Server);
        tokio::task::spawn_local(async move {
            if let Err(e) = system.await {
                tracing::debug!(%peer, "dialed vat ended: {e}");
            }
        });
        results.get().init_cap().set_as_capability(remote.hook);
        Ok(())
    }
}

/// A two-party vat over `stream`.
fn rpc_system(stream: Stream, side: Side, bootstrap: Option<Client>) -> RpcSystem<Side> {
    let (reader, writer) = stream.split();
    let network =
        twoparty::VatNetwork::new(reader, writer, side, capnp::message::ReaderOptions::new());
    RpcSystem::new(Box::new(network), bootstrap)
}
