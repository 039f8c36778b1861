//! What can go wrong with IPFS content, each saying what to do about it.

use std::path::PathBuf;
use std::time::Duration;

/// An IPFS failure, as the provider reports it to its callers.
#[derive(Debug, thiserror::Error)]
pub enum IpfsError {
    /// A path or CID that does not parse.
    #[error("`{input}` is not an IPFS path or CID ({reason}); use /ipfs/<cid>[/sub/path]")]
    BadPath {
        /// What was given.
        input: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A block was not found locally nor from peers in time.
    #[error(
        "block {cid} was not found in the local store nor from {peers} connected peer(s) within \
         {}s; connect to a node that has it (Host.connect) or add it first",
        timeout.as_secs_f32()
    )]
    NotFound {
        /// The missing block.
        cid: String,
        /// How many peers were asked.
        peers: usize,
        /// How long the search took before giving up.
        timeout: Duration,
    },
    /// A block whose bytes do not hash to its CID.
    #[error("block {cid} is corrupt: its bytes do not hash to its CID ({detail})")]
    Corrupt {
        /// The CID the block was stored or received under.
        cid: String,
        /// Where it was found, and what was done with it.
        detail: String,
    },
    /// A CID using a hash function this node cannot verify.
    #[error(
        "{cid} uses multihash code {code:#x}, which this node cannot verify; only sha2-256 \
         (and identity) CIDs are supported"
    )]
    UnsupportedHash {
        /// The CID.
        cid: String,
        /// Its multihash code.
        code: u64,
    },
    /// A path segment under something that is not a directory.
    #[error("{path}: `{segment}` is under a {kind}, not a directory; shorten the path")]
    NotADirectory {
        /// The full path asked for.
        path: String,
        /// The segment that could not be walked.
        segment: String,
        /// What was there instead.
        kind: &'static str,
    },
    /// A directory entry that does not exist.
    #[error("{path}: no entry `{segment}`; list the directory (ls) to see its entries")]
    NoSuchEntry {
        /// The full path asked for.
        path: String,
        /// The missing entry.
        segment: String,
    },
    /// cat on a directory, ls on a file, and the like.
    #[error("{path} is a {actual}, not a {expected}")]
    WrongKind {
        /// The path asked for.
        path: String,
        /// What the operation needs.
        expected: &'static str,
        /// What is there.
        actual: &'static str,
    },
    /// A block that is not valid UnixFS (or dag-pb).
    #[error("{cid} is not valid UnixFS: {reason}")]
    Malformed {
        /// The block.
        cid: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Bad input to an add (duplicate paths, an absolute or empty path).
    #[error("cannot add: {0}")]
    BadAdd(String),
    /// A file too large for a single message.
    #[error("{path} is {size} bytes, more than {limit} bytes fit in one reply; use catStream")]
    TooLarge {
        /// The path asked for.
        path: String,
        /// The file's size.
        size: u64,
        /// The most `cat` returns.
        limit: u64,
    },
    /// The pin asked to remove does not exist.
    #[error("{cid} is not pinned")]
    NotPinned {
        /// The CID.
        cid: String,
    },
    /// The store's files could not be read or written.
    #[error("the block store at {}: {what} failed: {source}", path.display())]
    Store {
        /// The file or directory involved.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Another process holds the data directory's store in a way that
    /// excludes this one (see `lease`).
    #[error(
        "the IPFS store in {} is in use by {holder}; wait for it to end (or stop it), then try again",
        dir.display()
    )]
    Busy {
        /// The data directory.
        dir: PathBuf,
        /// Who may hold it.
        holder: &'static str,
    },
    /// The network side (Bitswap, routing) failed.
    #[error("{0}")]
    Network(String),
    /// An `ipfs-url` given to a provider built without its Kubo backend.
    #[error(
        "--ipfs-url / WW_IPFS `{url}`: this ipfs provider was built without the `kubo` feature, \
         so it cannot use a Kubo RPC API; use a build with it (the default) or drop the URL to use \
         the embedded store"
    )]
    NoKubo {
        /// The URL given.
        url: String,
    },
    /// An `ipfs-url` that cannot name a Kubo RPC API.
    #[error(
        "--ipfs-url / WW_IPFS `{url}` is not usable ({reason}); give the daemon's API address, \
         e.g. http://127.0.0.1:5001"
    )]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The Kubo RPC API did not answer.
    #[error(
        "cannot reach the Kubo RPC API at {url} ({reason}); start the daemon (`ipfs daemon`) or \
         point --ipfs-url / WW_IPFS at a running one, or leave it unset to use the embedded store"
    )]
    Unreachable {
        /// The API's URL.
        url: String,
        /// The connection failure.
        reason: String,
    },
    /// The Kubo RPC API did not deliver content in time.
    #[error(
        "the Kubo RPC API at {url} sent nothing for `{call} {path}` within {}s: the daemon \
         neither has the content nor found it; add it there, or raise ipfs-fetch-timeout",
        timeout.as_secs_f32()
    )]
    ApiTimeout {
        /// The API's URL.
        url: String,
        /// The RPC call.
        call: &'static str,
        /// What was asked for.
        path: String,
        /// How long it waited.
        timeout: Duration,
    },
    /// The Kubo RPC API refused a call.
    #[error("the Kubo RPC API at {url} refused `{call}`: {message}")]
    Api {
        /// The API's URL.
        url: String,
        /// The RPC call (`add`, `cat`, `pin/rm`, …).
        call: &'static str,
        /// The daemon's message.
        message: String,
    },
}

impl From<IpfsError> for capnp::Error {
    fn from(e: IpfsError) -> capnp::Error {
        capnp::Error::failed(e.to_string())
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = IpfsError> = std::result::Result<T, E>;
