//! The swarm thread: owns the libp2p `Swarm` on its own tokio runtime, so
//! the swarm keeps running whatever the capability servers (single-threaded,
//! on the provider's `LocalSet`) are doing. It answers [`Command`]s and
//! publishes a [`Snapshot`] after every event that changes one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::core::transport::ListenerId;
use libp2p::kad::{self, GetProvidersOk, QueryId, QueryResult, RecordKey};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ConnectionId, DialError, SwarmEvent};
use libp2p::{identify, noise, tcp, yamux, Multiaddr, PeerId, Swarm, TransportError};
use tokio::sync::{mpsc, oneshot, watch};
use ww_provider_sdk::Error;

use crate::behaviour::{Behaviour, BehaviourEvent, KAD_PROTOCOL};
use crate::config::{Settings, LISTEN};
use crate::handle::{Command, Snapshot, SwarmHandle, COMMAND_QUEUE};

/// How long start-up waits for the listeners to report their addresses, so
/// `Host.addrs()` is right from a cell's first call.
const LISTEN_WAIT: Duration = Duration::from_secs(5);

/// Connections are kept this long without streams: a node's peers should
/// stay its peers while it runs, not vanish between two calls.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(3600);

/// At most this many dials in flight; more are refused as busy.
const MAX_PENDING_DIALS: usize = 64;

/// Bytes a peer may send on one QUIC stream before its reader reads them
/// (QUIC's per-stream flow-control window). libp2p's default, 10 MB, would
/// let each unread stream hold that much here; Yamux's is 256 KiB. 1 MiB
/// keeps loopback and LAN transfers at full speed.
const QUIC_STREAM_WINDOW: u32 = 1 << 20;

/// Starts the swarm thread and returns once it listens.
///
/// # Errors
///
/// [`Error::Config`] for a listen address that cannot be bound,
/// [`Error::Start`] when the swarm cannot be built.
pub async fn spawn(settings: Settings) -> Result<SwarmHandle, Error> {
    let peer_id = settings.keypair.public().to_peer_id();
    let dial_timeout = settings.dial_timeout;
    let (commands_tx, commands) = mpsc::channel(COMMAND_QUEUE);
    let (snapshot_tx, snapshot) = watch::channel(Snapshot::default());
    let (ready_tx, ready) = oneshot::channel::<Result<libp2p_stream::Control, Error>>();
    std::thread::Builder::new()
        .name("ww-host-swarm".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(start_error(format!("no runtime: {e}"))));
                    return;
                }
            };
            runtime.block_on(async move {
                let mut driver = match Driver::new(settings, commands, snapshot_tx) {
                    Ok(d) => d,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                match driver.listen().await {
                    Ok(()) => {
                        let control = driver.swarm.behaviour().stream.new_control();
                        let _ = ready_tx.send(Ok(control));
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                }
                driver.bootstrap();
                driver.run().await;
                tracing::debug!("libp2p swarm stopped: every handle was dropped");
            });
        })
        .map_err(|e| start_error(format!("cannot start the swarm thread: {e}")))?;
    let control = ready
        .await
        .map_err(|_| start_error("the swarm thread died while starting".into()))??;
    Ok(SwarmHandle::new(
        peer_id,
        control,
        dial_timeout,
        commands_tx,
        snapshot,
    ))
}

fn start_error(reason: String) -> Error {
    Error::Start {
        provider: "host".into(),
        reason,
    }
}

struct Driver {
    swarm: Swarm<Behaviour>,
    settings: Settings,
    commands: mpsc::Receiver<Command>,
    snapshot: watch::Sender<Snapshot>,
    listen: Vec<(ListenerId, Multiaddr)>,
    connections: BTreeMap<PeerId, BTreeMap<ConnectionId, Multiaddr>>,
    dials: HashMap<ConnectionId, oneshot::Sender<Result<(), String>>>,
    provides: HashMap<QueryId, oneshot::Sender<Result<(), String>>>,
    finds: HashMap<QueryId, Find>,
}

/// A `get_providers` query in progress.
struct Find {
    remaining: usize,
    seen: HashSet<PeerId>,
    found: mpsc::Sender<(PeerId, Vec<Multiaddr>)>,
    reply: oneshot::Sender<Result<(), String>>,
}

impl Driver {
    fn new(
        settings: Settings,
        commands: mpsc::Receiver<Command>,
        snapshot: watch::Sender<Snapshot>,
    ) -> Result<Driver, Error> {
        let swarm = libp2p::SwarmBuilder::with_existing_identity(settings.keypair.clone())
            .with_tokio()
            .with_tcp(
                tcp::Config::default(),
                noise::Config::new,
                yamux::Config::default,
            )
            .map_err(|e| start_error(format!("TCP transport: {e}")))?
            .with_quic_config(|mut quic| {
                quic.max_stream_data = QUIC_STREAM_WINDOW;
                quic
            })
            .with_behaviour(Behaviour::new)
            .map_err(|e| start_error(format!("behaviour: {e}")))?
            .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT))
            .with_connection_timeout(settings.dial_timeout)
            .build();
        Ok(Driver {
            swarm,
            settings,
            commands,
            snapshot,
            listen: Vec::new(),
            connections: BTreeMap::new(),
            dials: HashMap::new(),
            provides: HashMap::new(),
            finds: HashMap::new(),
        })
    }

    /// Binds every listen address (a busy default port falls back to a free
    /// one), then waits, bounded, until each has reported its address.
    async fn listen(&mut self) -> Result<(), Error> {
        let mut waiting = Vec::new();
        for addr in self.settings.listen.clone() {
            let id = match self.swarm.listen_on(addr.clone()) {
                Ok(id) => id,
                Err(e) if self.settings.default_listen => {
                    let fallback = with_port_zero(&addr);
                    tracing::warn!(
                        "cannot listen on {addr} ({}); listening on {fallback} instead (choose \
                         with --port or --listen)",
                        describe_transport(&e)
                    );
                    self.swarm
                        .listen_on(fallback.clone())
                        .map_err(|e| listen_error(&fallback, &describe_transport(&e)))?
                }
                Err(e) => return Err(listen_error(&addr, &describe_transport(&e))),
            };
            waiting.push(id);
        }
        let deadline = tokio::time::Instant::from_std(Instant::now() + LISTEN_WAIT);
        while waiting
            .iter()
            .any(|id| !self.listen.iter().any(|(l, _)| l == id))
        {
            let event = tokio::select! {
                event = self.swarm.select_next_some() => event,
                _ = tokio::time::sleep_until(deadline) => {
                    tracing::warn!("some listeners did not report an address within {LISTEN_WAIT:?}");
                    break;
                }
            };
            if let SwarmEvent::ListenerClosed {
                listener_id,
                addresses,
                reason: Err(e),
            } = &event
            {
                if waiting.contains(listener_id) {
                    let addr = addresses
                        .first()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    return Err(listen_error(&addr, &e.to_string()));
                }
            }
            self.on_event(event);
        }
        for (_, addr) in &self.listen {
            tracing::info!(
                "libp2p host listening on {addr}/p2p/{}",
                self.swarm.local_peer_id()
            );
        }
        Ok(())
    }

    /// Starts joining the network through the bootstrap peers (in the
    /// background: start-up never waits for it).
    fn bootstrap(&mut self) {
        for (peer, addr) in self.settings.bootstrap.clone() {
            self.swarm
                .behaviour_mut()
                .kad
                .add_address(&peer, addr.clone());
            if let Err(e) = self.swarm.dial(
                DialOpts::peer_id(peer)
                    .addresses(vec![addr.clone()])
                    .build(),
            ) {
                tracing::warn!("cannot dial bootstrap peer {addr}: {}", describe_dial(&e));
            }
        }
        if !self.settings.bootstrap.is_empty() {
            if let Err(e) = self.swarm.behaviour_mut().kad.bootstrap() {
                tracing::warn!("Kademlia bootstrap: {e}");
            }
        }
    }

    async fn run(&mut self) {
        loop {
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                event = self.swarm.select_next_some() => self.on_event(event),
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Dial { peer, addr, reply } => {
                if self.swarm.is_connected(&peer) {
                    let _ = reply.send(Ok(()));
                    return;
                }
                if self.dials.len() >= MAX_PENDING_DIALS {
                    let _ = reply.send(Err(format!(
                        "{MAX_PENDING_DIALS} connections are already being set up; retry shortly"
                    )));
                    return;
                }
                let opts = DialOpts::peer_id(peer).addresses(vec![addr]).build();
                let id = opts.connection_id();
                match self.swarm.dial(opts) {
                    Ok(()) => {
                        self.dials.insert(id, reply);
                    }
                    Err(e) => {
                        let _ = reply.send(Err(describe_dial(&e)));
                    }
                }
            }
            Command::Provide { key, reply } => {
                match self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .start_providing(RecordKey::new(&key))
                {
                    Ok(id) => {
                        self.provides.insert(id, reply);
                    }
                    Err(e) => {
                        let _ = reply.send(Err(format!("the local provider store refused: {e}")));
                    }
                }
            }
            Command::FindProviders {
                key,
                count,
                found,
                reply,
            } => {
                let id = self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .get_providers(RecordKey::new(&key));
                self.finds.insert(
                    id,
                    Find {
                        remaining: count,
                        seen: HashSet::new(),
                        found,
                        reply,
                    },
                );
            }
        }
    }

    fn on_kad(&mut self, event: kad::Event) {
        let kad::Event::OutboundQueryProgressed {
            id, result, step, ..
        } = event
        else {
            return;
        };
        match result {
            QueryResult::StartProviding(result) => {
                if let Some(reply) = self.provides.remove(&id) {
                    let _ = reply.send(result.map(|_| ()).map_err(|e| {
                        format!(
                            "announcing to the DHT failed ({e}); the record is kept locally — \
                             connect to peers (--bootstrap) so others can find it"
                        )
                    }));
                }
            }
            QueryResult::GetProviders(result) => {
                let Some(find) = self.finds.get_mut(&id) else {
                    return;
                };
                let mut done = step.last;
                let mut error = None;
                match result {
                    Ok(GetProvidersOk::FoundProviders { providers, .. }) => {
                        for peer in providers {
                            if find.remaining == 0 || !find.seen.insert(peer) {
                                continue;
                            }
                            let addrs = if peer == *self.swarm.local_peer_id() {
                                self.listen.iter().map(|(_, a)| a.clone()).collect()
                            } else {
                                self.connections
                                    .get(&peer)
                                    .map(|c| c.values().cloned().collect())
                                    .unwrap_or_default()
                            };
                            // Capacity is at least `count`: never full.
                            let _ = find.found.try_send((peer, addrs));
                            find.remaining -= 1;
                        }
                        if find.remaining == 0 {
                            if let Some(mut query) = self.swarm.behaviour_mut().kad.query_mut(&id) {
                                query.finish();
                            }
                            done = true;
                        }
                    }
                    Ok(GetProvidersOk::FinishedWithNoAdditionalRecord { .. }) => done = true,
                    Err(e) => {
                        done = true;
                        if find.seen.is_empty() {
                            error = Some(format!("the DHT search ended without an answer ({e})"));
                        }
                    }
                }
                if done {
                    if let Some(find) = self.finds.remove(&id) {
                        let _ = find.reply.send(error.map_or(Ok(()), Err));
                    }
                }
            }
            _ => {}
        }
    }

    fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } => {
                self.listen.push((listener_id, address));
                self.publish();
            }
            SwarmEvent::ExpiredListenAddr {
                listener_id,
                address,
            } => {
                self.listen
                    .retain(|(l, a)| !(l == &listener_id && a == &address));
                self.publish();
            }
            SwarmEvent::ListenerClosed { listener_id, .. } => {
                self.listen.retain(|(l, _)| l != &listener_id);
                self.publish();
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            } => {
                let remote = endpoint.get_remote_address().clone();
                if endpoint.is_dialer() {
                    self.swarm
                        .behaviour_mut()
                        .kad
                        .add_address(&peer_id, remote.clone());
                }
                self.connections
                    .entry(peer_id)
                    .or_default()
                    .insert(connection_id, remote);
                tracing::debug!(%peer_id, "connected");
                // Publish before answering: a caller whose connect succeeded
                // must find the peer in its next `peers()`.
                self.publish();
                if let Some(reply) = self.dials.remove(&connection_id) {
                    let _ = reply.send(Ok(()));
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                ..
            } => {
                if let Some(conns) = self.connections.get_mut(&peer_id) {
                    conns.remove(&connection_id);
                    if conns.is_empty() {
                        self.connections.remove(&peer_id);
                    }
                }
                tracing::debug!(%peer_id, "disconnected");
                self.publish();
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                error,
                ..
            } => {
                if let Some(reply) = self.dials.remove(&connection_id) {
                    let _ = reply.send(Err(describe_dial(&error)));
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kad(event)) => self.on_kad(event),
            // Kademlia learns where a peer that dialed us listens only from
            // Identify.
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) if info.protocols.contains(&KAD_PROTOCOL) => {
                for addr in info.listen_addrs {
                    self.swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                }
            }
            _ => {}
        }
    }

    fn publish(&self) {
        let snapshot = Snapshot {
            listen: self.listen.iter().map(|(_, a)| a.clone()).collect(),
            peers: self
                .connections
                .iter()
                .map(|(peer, conns)| {
                    let mut addrs: Vec<Multiaddr> = conns.values().cloned().collect();
                    addrs.dedup();
                    (*peer, addrs)
                })
                .collect(),
        };
        self.snapshot.send_replace(snapshot);
    }
}

/// `addr` with its TCP or UDP port set to 0 (any free port).
fn with_port_zero(addr: &Multiaddr) -> Multiaddr {
    addr.iter()
        .map(|p| match p {
            Protocol::Tcp(_) => Protocol::Tcp(0),
            Protocol::Udp(_) => Protocol::Udp(0),
            p => p,
        })
        .collect()
}

fn listen_error(addr: &dyn std::fmt::Display, reason: &str) -> Error {
    Error::Config {
        key: LISTEN.into(),
        reason: format!(
            "cannot listen on {addr} ({reason}); choose a free port, or port 0 for any, with \
             --listen or --port"
        ),
    }
}

fn describe_transport(e: &TransportError<std::io::Error>) -> String {
    match e {
        TransportError::MultiaddrNotSupported(addr) => {
            format!("no transport for {addr}: ww speaks /tcp and /udp/…/quic-v1")
        }
        TransportError::Other(e) => e.to_string(),
    }
}

/// A dial failure in a sentence, with the OS's reason where there is one.
fn describe_dial(e: &DialError) -> String {
    match e {
        DialError::Transport(errors) => errors
            .iter()
            .map(|(addr, e)| {
                let mut text = format!("{addr}: {}", describe_transport(e));
                let mut source = std::error::Error::source(e);
                while let Some(s) = source {
                    text.push_str(&format!(": {s}"));
                    source = s.source();
                }
                text
            })
            .collect::<Vec<_>>()
            .join("; "),
        DialError::WrongPeerId { obtained, .. } => {
            format!("a different peer answered there ({obtained})")
        }
        DialError::NoAddresses => "no address to dial".into(),
        DialError::LocalPeerId { .. } => "that is this node itself".into(),
        e => e.to_string(),
    }
}
