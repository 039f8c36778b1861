//! What can go wrong when a cell asks the host to reach another node, each
//! with what to do about it.

use std::time::Duration;

/// `Host.connect` failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The text is not a multiaddr.
    #[error(
        "`{addr}` is not a multiaddr ({reason}); write one like \
         /ip4/127.0.0.1/tcp/2025/p2p/12D3KooW…"
    )]
    Malformed {
        /// What the caller gave.
        addr: String,
        /// The parser's reason.
        reason: String,
    },
    /// The multiaddr does not say which peer to expect.
    #[error(
        "`{addr}` names no peer; append /p2p/<peer id> (the other node's `host id`) so the \
         connection is authenticated"
    )]
    NoPeerId {
        /// What the caller gave.
        addr: String,
    },
    /// The multiaddr names this node.
    #[error("`{addr}` is this node itself; connect to another node")]
    SelfDial {
        /// What the caller gave.
        addr: String,
    },
    /// Every attempt failed (refused, wrong peer, handshake failure, ...).
    #[error(
        "cannot connect to {addr}: {reason}; check that the node is running, listening \
         there, and has that peer id"
    )]
    Unreachable {
        /// What the caller gave.
        addr: String,
        /// What the transport reported.
        reason: String,
    },
    /// No connection within the bounded time.
    #[error(
        "connecting to {addr} timed out after {}s; check the address and that the node is \
         reachable from here",
        timeout.as_secs_f32()
    )]
    Timeout {
        /// What the caller gave.
        addr: String,
        /// How long we waited.
        timeout: Duration,
    },
    /// The swarm thread is gone.
    #[error(transparent)]
    Swarm(#[from] SwarmGone),
    /// Too many requests are queued for the swarm.
    #[error(transparent)]
    Busy(#[from] Busy),
}

/// The swarm thread stopped; nothing network-related can work any more.
#[derive(Debug, thiserror::Error)]
#[error("the libp2p swarm has stopped; the host's log says why (restart the node)")]
pub struct SwarmGone;

/// The swarm's command queue is full.
#[derive(Debug, thiserror::Error)]
#[error("the libp2p host is busy ({0} requests queued); retry shortly")]
pub struct Busy(pub usize);

/// Maps an error to the Cap'n Proto kind that tells the caller what happened.
pub fn to_capnp(e: ConnectError) -> capnp::Error {
    match e {
        ConnectError::Swarm(e) => capnp::Error::disconnected(e.to_string()),
        ConnectError::Busy(e) => capnp::Error::overloaded(e.to_string()),
        e => capnp::Error::failed(e.to_string()),
    }
}
