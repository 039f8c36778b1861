//! The node's protocols, composed into one `NetworkBehaviour`.

use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::kad::store::MemoryStore;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{identify, kad, ping, StreamProtocol};

/// Kademlia protocol of ww's DHT. Namespaced under `/ww/` so that a ww node
/// connected to an IPFS peer does not join (or pollute) the public IPFS DHT.
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/ww/kad/1.0.0");

/// What Identify announces as the protocol family: peers speaking another
/// family are still identified, but this is how a ww node recognises one.
pub const IDENTIFY_PROTOCOL_VERSION: &str = "/ww/1.0.0";

/// How often Kademlia re-runs its bootstrap once it knows a peer.
const KAD_BOOTSTRAP_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Identify (who a peer is and where it listens), Ping (liveness),
/// Kademlia (peer and content routing) and generic streams for cells.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Learns peers' listen addresses, which feed Kademlia's routing table.
    pub identify: identify::Behaviour,
    /// Measures round trips and notices dead connections.
    pub ping: ping::Behaviour,
    /// The DHT.
    pub kad: kad::Behaviour<MemoryStore>,
    /// Cells' own protocols (`StreamListener`, `StreamDialer`, vats).
    pub stream: libp2p_stream::Behaviour,
}

impl Behaviour {
    /// The behaviour of the node holding `key`.
    pub fn new(key: &Keypair) -> Behaviour {
        let peer = key.public().to_peer_id();
        let identify = identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL_VERSION.to_string(), key.public())
                .with_agent_version(format!("ww/{}", env!("CARGO_PKG_VERSION"))),
        );
        let mut config = kad::Config::new(KAD_PROTOCOL);
        config.set_periodic_bootstrap_interval(Some(KAD_BOOTSTRAP_INTERVAL));
        let mut kad = kad::Behaviour::with_config(peer, MemoryStore::new(peer), config);
        // Serve DHT queries even without a confirmed external address: on a
        // private network or loopback there never is one, and a client-mode
        // DHT of ww nodes would find nothing.
        kad.set_mode(Some(kad::Mode::Server));
        Behaviour {
            identify,
            ping: ping::Behaviour::default(),
            kad,
            stream: libp2p_stream::Behaviour::new(),
        }
    }
}
