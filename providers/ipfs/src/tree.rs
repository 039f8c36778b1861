//! A directory tree added whole: what a cell's `addDirectory` adds, and how
//! `ww push` puts an image where nodes find it without a node running.
//!
//! The two functions for `ww push` are this crate's whole API outside the
//! provider: a tree goes into a data directory's store, pinned (a node
//! started on that directory serves and announces it), or through a Kubo
//! RPC API (pinned there, as `ipfs add -r` pins).

use std::path::Path;

use cid::Cid;

#[cfg(feature = "kubo")]
use crate::blocks::DEFAULT_FETCH_TIMEOUT;
use crate::blockstore::Blockstore;
use crate::error::Result;
use crate::importer::{self, AddOptions, Entry};
#[cfg(feature = "kubo")]
use crate::kubo::api::KuboApi;
#[cfg(feature = "kubo")]
use crate::kubo::multipart;
use crate::lease::Lease;
use crate::pins::Pins;

/// One entry of a tree: its path relative to the tree's root (`/`
/// separated) and a file's bytes, or `None` for an empty directory (its
/// path ends in `/`). Other directories are implied by their files' paths.
pub type TreeEntry<'a> = (String, Option<&'a [u8]>);

/// Adds `files` to `store`; returns the root's CID, as `ipfs add -r` gives
/// it.
/// `then` runs with the root's CID (to pin it) while the blocks are held
/// against collection.
pub(crate) fn add_to_store(
    store: &Blockstore,
    files: &[TreeEntry<'_>],
    options: AddOptions,
    then: impl FnOnce(&Cid) -> Result<()>,
) -> Result<Cid> {
    let entries: Vec<(String, Entry<'_>)> = files
        .iter()
        .map(|(path, data)| match data {
            Some(data) => (path.clone(), Entry::File(data)),
            None => (path.clone(), Entry::EmptyDirectory),
        })
        .collect();
    importer::add_directory_then(store, &entries, options, then)
}

/// Adds `files` to the store in `data_dir` and pins the root there; a node
/// later started with that data directory serves the tree and announces
/// it. No network: every block is written locally.
///
/// # Errors
///
/// A bad path in the tree, a store being repaired ([`crate::IpfsError::Busy`]),
/// or a store or pin list that cannot be opened or written (nothing of the
/// tree is pinned then).
pub fn add_pinned(data_dir: &Path, files: &[TreeEntry<'_>], options: AddOptions) -> Result<Cid> {
    let _lease = Lease::shared(data_dir)?;
    // A node's collection on this directory waits until the pin is recorded.
    let _adding = Lease::adding(data_dir)?;
    let store = Blockstore::open(data_dir)?;
    let pins = Pins::open(data_dir)?;
    add_to_store(&store, files, options, |root| pins.add(root))
}

/// Adds `files` through the Kubo RPC API at `url` in one `add` call; the
/// daemon pins the root, as `ipfs add -r` does.
///
/// # Errors
///
/// A URL that is not a Kubo RPC API's (`http://HOST:PORT`), an unreachable
/// daemon, or its refusal, each naming the URL.
#[cfg(feature = "kubo")]
pub async fn add_through_api(
    url: &str,
    files: &[TreeEntry<'_>],
    options: AddOptions,
) -> Result<Cid> {
    // Adds wait for the daemon however long it takes; nothing is fetched.
    let api = KuboApi::new(url, DEFAULT_FETCH_TIMEOUT)?;
    api.add_form(multipart::directory(files), options, multipart::ROOT)
        .await
}
