//! The typed door: every standard capability as WIT imports
//! (`wetware:membrane` and the families it grants), no Cap'n Proto needed.
//!
//! The host answers these with the same epoch-guarded capabilities the RPC
//! vat hands out, so a guest may use either door, or both. A cell that only
//! calls through WIT does not need [`run`](crate::run): it is a plain
//! `fn main`.
//!
//! ```no_run
//! use ww_guest::wit;
//!
//! fn main() -> Result<(), wit::Error> {
//!     let caps = wit::graft()?;
//!     let identity = caps.identity.expect("this node grants `identity`");
//!     let signer = identity.signer("greeting")?;
//!     let signature = signer.sign(b"hello", caps.epoch.seq)?;
//!     println!("signed in epoch {}: {} bytes", caps.epoch.seq, signature.len());
//!     Ok(())
//! }
//! ```
//!
//! Every call returns `Result<_, wit::Error>`. After the node's epoch
//! advances, calls on resources of the old epoch fail with
//! [`Error::StaleEpoch`]; call [`graft`] again. A capability with no WIT
//! (a third-party provider's) is named in [`Caps::names`] and reached
//! through the RPC vat ([`crate::graft`]).

#[allow(missing_docs, clippy::all)]
mod bindings {
    wit_bindgen::generate!({
        world: "wetware:membrane/minimal",
        path: "../../wit/membrane",
        generate_all,
    });
}

pub use bindings::wetware::executor::executor::{Executor, ExitStatus, Limits, Process, Runtime};
pub use bindings::wetware::host::host::{
    Inbound, Incoming, Network, Node, PeerInfo, StreamDialer, StreamListener,
};
pub use bindings::wetware::identity::identity::{Identity, Signer};
pub use bindings::wetware::ipfs::ipfs::{AddOptions, AddWriter, Entry, File, Ipfs, Unixfs};
pub use bindings::wetware::membrane::membrane::{epoch, graft, Caps};
pub use bindings::wetware::routing::routing::{Provider, Routing};
pub use bindings::wetware::types::errors::{Epoch, Error, Stale};
pub use bindings::wetware::types::streams::ByteStream;

impl Error {
    /// The current epoch, if this error says the resource was revoked
    /// because its epoch ended (then graft again).
    pub fn stale_epoch(&self) -> Option<u64> {
        match self {
            Error::StaleEpoch(stale) => Some(stale.current),
            _ => None,
        }
    }
}

impl ByteStream {
    /// Reads until the end of the stream, `chunk` bytes at a time at most.
    ///
    /// # Errors
    ///
    /// When a read fails.
    pub fn read_to_end(&self, chunk: u32) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        loop {
            let data = self.read(chunk)?;
            if data.is_empty() {
                return Ok(out);
            }
            out.extend_from_slice(&data);
        }
    }
}
