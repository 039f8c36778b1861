//! The provider's configuration: the node key, where to listen, whom to
//! bootstrap from. Parsed before the swarm starts, so a typo is a clear
//! start-up error rather than a node that silently listens nowhere.

use std::time::Duration;

use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::SigningKey;
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use ww_provider_sdk::manifest::ConfigKey;
use ww_provider_sdk::{Context, Error};

use crate::admission::Limits;

/// Config key: the node's Ed25519 key (PKCS#8 PEM), shared with `identity`.
pub const IDENTITY: &str = "identity";
/// Config key: comma-separated listen multiaddrs.
pub const LISTEN: &str = "listen";
/// Config key: comma-separated bootstrap multiaddrs, each with /p2p/<id>.
pub const BOOTSTRAP: &str = "bootstrap";
/// Config key: seconds `Host.connect` waits before giving up.
pub const DIAL_TIMEOUT: &str = "dial_timeout";
/// Config key: concurrent inbound streams per listening protocol.
pub const STREAM_LIMIT: &str = "stream_limit";
/// Config key: concurrent inbound streams per protocol from one peer.
pub const STREAM_LIMIT_PER_PEER: &str = "stream_limit_per_peer";
/// Config key: concurrent inbound vats per served vat protocol.
pub const VAT_LIMIT: &str = "vat_limit";
/// Config key: concurrent inbound vats per vat protocol from one peer.
pub const VAT_LIMIT_PER_PEER: &str = "vat_limit_per_peer";

/// The port a node listens on when not told otherwise (`ww run --port`).
pub const DEFAULT_PORT: u16 = 2025;
/// How long `Host.connect` waits by default.
pub const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(10);

/// The keys this provider reads, for its manifest.
pub fn keys() -> Vec<ConfigKey> {
    let key = |key: &str, help: &str, required| ConfigKey {
        key: key.to_string(),
        help: help.to_string(),
        required,
    };
    vec![
        key(
            IDENTITY,
            "the node's Ed25519 key, PKCS#8 PEM; its PeerId is derived from it",
            true,
        ),
        key(
            LISTEN,
            "comma-separated listen multiaddrs [default: /ip4/127.0.0.1/tcp/2025 and \
             /ip4/127.0.0.1/udp/2025/quic-v1]",
            false,
        ),
        key(
            BOOTSTRAP,
            "comma-separated multiaddrs (with /p2p/<id>) of peers to join the network through",
            false,
        ),
        key(
            DIAL_TIMEOUT,
            "seconds Host.connect waits for a connection [default: 10]",
            false,
        ),
        key(
            STREAM_LIMIT,
            "concurrent inbound byte streams per listening protocol [default: 64]",
            false,
        ),
        key(
            STREAM_LIMIT_PER_PEER,
            "concurrent inbound byte streams per protocol from one peer [default: 16]",
            false,
        ),
        key(
            VAT_LIMIT,
            "concurrent inbound vats per served vat protocol [default: 32]",
            false,
        ),
        key(
            VAT_LIMIT_PER_PEER,
            "concurrent inbound vats per vat protocol from one peer [default: 8]",
            false,
        ),
    ]
}

/// Everything the swarm needs to start.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The node key; its public half is the PeerId.
    pub keypair: Keypair,
    /// Where to listen.
    pub listen: Vec<Multiaddr>,
    /// Whether `listen` is the built-in default (then a busy port falls back
    /// to a free one instead of failing the node).
    pub default_listen: bool,
    /// Peers to connect to at start, with their ids.
    pub bootstrap: Vec<(PeerId, Multiaddr)>,
    /// `Host.connect`'s bound.
    pub dial_timeout: Duration,
    /// Admission limits of every byte-stream protocol.
    pub limits: Limits,
    /// Admission limits of every vat protocol.
    pub vat_limits: Limits,
}

impl Settings {
    /// Reads and checks the provider's config.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the key and what is wrong with it.
    pub fn from_context(ctx: &Context) -> Result<Settings, Error> {
        let keypair = keypair(ctx.required_config(IDENTITY)?)?;
        let (listen, default_listen) = match ctx.config(LISTEN) {
            Some(text) => (addrs(LISTEN, text)?, false),
            None => (default_listen(DEFAULT_PORT), true),
        };
        if listen.is_empty() {
            return Err(config_error(
                LISTEN,
                "names no address; give at least one, e.g. /ip4/127.0.0.1/tcp/0".into(),
            ));
        }
        let bootstrap = match ctx.config(BOOTSTRAP) {
            Some(text) => addrs(BOOTSTRAP, text)?
                .into_iter()
                .map(|addr| match peer_of(&addr) {
                    Some(peer) => Ok((peer, addr)),
                    None => Err(config_error(
                        BOOTSTRAP,
                        format!("`{addr}` names no peer; append /p2p/<peer id>"),
                    )),
                })
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let dial_timeout = match ctx.config(DIAL_TIMEOUT) {
            Some(text) => match text.trim().parse::<f64>() {
                Ok(secs) if secs > 0.0 && secs <= 3600.0 => Duration::from_secs_f64(secs),
                _ => {
                    return Err(config_error(
                        DIAL_TIMEOUT,
                        format!("`{text}` is not a number of seconds between 0 and 3600"),
                    ))
                }
            },
            None => DEFAULT_DIAL_TIMEOUT,
        };
        let defaults = Limits::default();
        let limits = Limits {
            total: count(ctx, STREAM_LIMIT, defaults.total)?,
            per_peer: count(ctx, STREAM_LIMIT_PER_PEER, defaults.per_peer)?,
        };
        let vat_defaults = Limits::vats();
        let vat_limits = Limits {
            total: count(ctx, VAT_LIMIT, vat_defaults.total)?,
            per_peer: count(ctx, VAT_LIMIT_PER_PEER, vat_defaults.per_peer)?,
        };
        Ok(Settings {
            keypair,
            listen,
            default_listen,
            bootstrap,
            dial_timeout,
            limits,
            vat_limits,
        })
    }
}

/// TCP and QUIC on loopback at `port`.
pub fn default_listen(port: u16) -> Vec<Multiaddr> {
    let tcp = Multiaddr::empty()
        .with(Protocol::Ip4([127, 0, 0, 1].into()))
        .with(Protocol::Tcp(port));
    let quic = Multiaddr::empty()
        .with(Protocol::Ip4([127, 0, 0, 1].into()))
        .with(Protocol::Udp(port))
        .with(Protocol::QuicV1);
    vec![tcp, quic]
}

/// The libp2p keypair of the node's Ed25519 PEM key; the error never echoes
/// the key material.
///
/// # Errors
///
/// [`Error::Config`] for anything but an Ed25519 PKCS#8 PEM private key.
pub fn keypair(pem: &str) -> Result<Keypair, Error> {
    let key = SigningKey::from_pkcs8_pem(pem).map_err(|e| {
        config_error(
            IDENTITY,
            format!(
                "is not an Ed25519 PKCS#8 PEM private key ({e}); give a \
                 `-----BEGIN PRIVATE KEY-----` block (see `ww keygen`)"
            ),
        )
    })?;
    let mut secret = key.to_bytes();
    Keypair::ed25519_from_bytes(&mut secret)
        .map_err(|e| config_error(IDENTITY, format!("is not a usable Ed25519 key ({e})")))
}

/// The /p2p/<id> component of `addr`, if any.
pub fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    addr.iter().find_map(|p| match p {
        Protocol::P2p(id) => Some(id),
        _ => None,
    })
}

/// A positive count from config `key`, or `default`.
fn count(ctx: &Context, key: &str, default: usize) -> Result<usize, Error> {
    match ctx.config(key) {
        None => Ok(default),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(config_error(
                key,
                format!("`{text}` is not a positive whole number"),
            )),
        },
    }
}

fn addrs(key: &str, text: &str) -> Result<Vec<Multiaddr>, Error> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Multiaddr>().map_err(|e| {
                config_error(
                    key,
                    format!("`{s}` is not a multiaddr ({e}); write e.g. /ip4/127.0.0.1/tcp/2025"),
                )
            })
        })
        .collect()
}

fn config_error(key: &str, reason: String) -> Error {
    Error::Config {
        key: key.to_string(),
        reason,
    }
}
