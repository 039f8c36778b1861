//! The provider's side of the swarm: a cheap, cloneable handle that reads
//! the latest snapshot without waiting and sends bounded commands to the
//! swarm thread.

use std::collections::BTreeMap;
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::peer_of;
use crate::error::{Busy, ConnectError, SwarmGone};

/// How many commands may wait for the swarm thread before callers are told
/// it is busy.
pub const COMMAND_QUEUE: usize = 64;

/// What the swarm looked like after its last event. Readers never wait for
/// the swarm: they get this, however warm the swarm is.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Addresses the node listens on (without /p2p).
    pub listen: Vec<Multiaddr>,
    /// Connected peers, with the remote address of each connection.
    pub peers: BTreeMap<PeerId, Vec<Multiaddr>>,
}

/// A request to the swarm thread; each carries where to send its answer.
#[derive(Debug)]
pub enum Command {
    /// Connect to `peer` at `addr`; answered once connected or failed.
    Dial {
        /// The peer expected at `addr`.
        peer: PeerId,
        /// Where to reach it.
        addr: Multiaddr,
        /// `Err` says why the dial failed.
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Announce this node as a provider of `key` in the DHT.
    Provide {
        /// Raw Kademlia key.
        key: Vec<u8>,
        /// Answered when the query ends.
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Find up to `count` providers of `key`.
    FindProviders {
        /// Raw Kademlia key.
        key: Vec<u8>,
        /// At most this many are sent to `found`.
        count: usize,
        /// Each provider, once (capacity at least `count`).
        found: mpsc::Sender<(PeerId, Vec<Multiaddr>)>,
        /// Answered when the query ends.
        reply: oneshot::Sender<Result<(), String>>,
    },
}

/// Talks to the swarm thread. Dropping every handle stops the swarm.
#[derive(Clone)]
pub struct SwarmHandle {
    peer_id: PeerId,
    control: libp2p_stream::Control,
    dial_timeout: Duration,
    commands: mpsc::Sender<Command>,
    snapshot: watch::Receiver<Snapshot>,
}

impl std::fmt::Debug for SwarmHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwarmHandle")
            .field("peer_id", &self.peer_id)
            .finish_non_exhaustive()
    }
}

impl SwarmHandle {
    pub(crate) fn new(
        peer_id: PeerId,
        control: libp2p_stream::Control,
        dial_timeout: Duration,
        commands: mpsc::Sender<Command>,
        snapshot: watch::Receiver<Snapshot>,
    ) -> SwarmHandle {
        SwarmHandle {
            peer_id,
            control,
            dial_timeout,
            commands,
            snapshot,
        }
    }

    /// This node's PeerId.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// A new control for opening and accepting streams (one per user keeps
    /// libp2p-stream's per-control backpressure meaningful).
    pub fn control(&self) -> libp2p_stream::Control {
        self.control.clone()
    }

    /// How long dials and stream opens may take.
    pub fn dial_timeout(&self) -> Duration {
        self.dial_timeout
    }

    /// The latest snapshot (never waits).
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot.borrow().clone()
    }

    /// Queues `command` for the swarm thread without waiting for room.
    ///
    /// # Errors
    ///
    /// [`ConnectError::Busy`] when the queue is full, [`ConnectError::Swarm`]
    /// when the swarm thread is gone.
    pub fn send(&self, command: Command) -> Result<(), ConnectError> {
        self.commands.try_send(command).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Busy(COMMAND_QUEUE).into(),
            mpsc::error::TrySendError::Closed(_) => SwarmGone.into(),
        })
    }

    /// Connects to the peer at `addr` (a multiaddr ending in /p2p/<id>),
    /// waiting at most the configured dial timeout. Already connected is
    /// success.
    ///
    /// # Errors
    ///
    /// A malformed address, one without a peer id or naming this node, a
    /// failed dial, or the timeout; each [`ConnectError`] says what to do.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the wait; the swarm still finishes (or
    /// times out) the dial on its own.
    pub async fn connect(&self, addr: &str) -> Result<(), ConnectError> {
        let parsed: Multiaddr = addr.trim().parse().map_err(|e| ConnectError::Malformed {
            addr: addr.to_string(),
            reason: format!("{e}"),
        })?;
        let peer = peer_of(&parsed).ok_or_else(|| ConnectError::NoPeerId {
            addr: addr.to_string(),
        })?;
        if peer == self.peer_id {
            return Err(ConnectError::SelfDial {
                addr: addr.to_string(),
            });
        }
        let (reply, answer) = oneshot::channel();
        self.send(Command::Dial {
            peer,
            addr: parsed,
            reply,
        })?;
        match tokio::time::timeout(self.dial_timeout, answer).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(reason))) => Err(ConnectError::Unreachable {
                addr: addr.to_string(),
                reason,
            }),
            Ok(Err(_)) => Err(SwarmGone.into()),
            Err(_) => Err(ConnectError::Timeout {
                addr: addr.to_string(),
                timeout: self.dial_timeout,
            }),
        }
    }
}
