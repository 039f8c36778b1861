//! What a store does to be served as `Ipfs` and `UnixFs`.
//!
//! Two stores stand behind the same capabilities: the node's embedded
//! blockstore ([`crate::embedded`]) and a Kubo RPC API ([`crate::kubo`]).
//! Each implements [`Backend`]; one server ([`crate::unixfs`],
//! [`crate::ipfs`]) decodes the requests and encodes the answers for both,
//! so the two answer alike and a rule about a request is written once.

use capnp::Error;
use cid::Cid;
use futures::channel::mpsc;
use futures::future::LocalBoxFuture;
use ww_capnp::ipfs_capnp::add_writer;

use crate::importer::AddOptions;
use crate::path::IpfsPath;
use crate::reader::Entry;
use crate::tree::TreeEntry;

/// A file being read: its bytes arrive on `chunks` while `feed` runs.
pub(crate) struct Reading {
    /// The file's size, when the store knows it before reading.
    pub(crate) size: Option<u64>,
    /// The file's bytes, in order; the channel is bounded, so the feed
    /// waits for the reader.
    pub(crate) chunks: mpsc::Receiver<Vec<u8>>,
    /// Reads the file into `chunks`; nothing arrives unless it is polled.
    /// A reader that drops `chunks` ends it quietly; its error says why
    /// the bytes stopped early.
    pub(crate) feed: LocalBoxFuture<'static, crate::error::Result<()>>,
}

/// A store behind `Ipfs` and `UnixFs`. Parameters arrive decoded and
/// checked; errors go to the cell as they are.
pub(crate) trait Backend: 'static {
    /// Opens the file at `path`. Errors before the first byte (no such
    /// file, not a file) fail here, so they fail the call itself.
    async fn read(&self, path: IpfsPath) -> Result<Reading, Error>;

    /// The entries of the directory at `path`.
    async fn ls(&self, path: &IpfsPath) -> Result<Vec<Entry>, Error>;

    /// Adds (and pins) one file.
    async fn add(&self, data: &[u8], options: AddOptions) -> Result<Cid, Error>;

    /// A writer that adds (and pins) one file on `finish`.
    fn add_stream(&self, options: AddOptions) -> Result<add_writer::Client, Error>;

    /// Adds (and pins) a directory tree.
    async fn add_directory(
        &self,
        files: &[TreeEntry<'_>],
        options: AddOptions,
    ) -> Result<Cid, Error>;

    /// Pins `cid`, fetching what is missing.
    async fn pin(&self, cid: &Cid) -> Result<(), Error>;

    /// Unpins `cid`.
    async fn unpin(&self, cid: &Cid) -> Result<(), Error>;
}
