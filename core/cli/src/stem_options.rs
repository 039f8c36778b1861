//! `ww run --stem …` as options, apart from the stem itself: the CLI
//! parses them whether or not this ww was built with the `stem` feature,
//! and a build without it refuses them by name.

use std::path::PathBuf;
use std::time::Duration;

/// `ww run --stem …`.
#[derive(Clone, Debug)]
pub struct StemOptions {
    /// The Atom's address.
    pub atom: String,
    /// JSON-RPC over HTTP.
    pub rpc_url: String,
    /// JSON-RPC over WebSocket.
    pub ws_url: String,
    /// Blocks on top of an update before it is adopted.
    pub depth: u64,
    /// Grace for calls in flight before the old epoch's capabilities are
    /// revoked.
    pub drain: Duration,
    /// Where the cursor is kept (`None`: under `$XDG_STATE_HOME/ww/stem`).
    pub cursor: Option<PathBuf>,
}
