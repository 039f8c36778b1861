//! `ww push DIR`: adds a directory (an image) to this node's IPFS store,
//! pins it and returns its CID — the same CID `ipfs add -r DIR` gives with
//! Kubo's defaults.
//!
//! It writes the store directly (no network): a node later started with the
//! same data directory serves the content and announces its pins. With
//! `--ipfs-url` it adds to a Kubo-compatible RPC API instead (pinned there,
//! as `ipfs add -r` pins), for nodes that run with the same `--ipfs-url`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ww_ipfs::blocks::Blocks;
use ww_ipfs::blockstore::Blockstore;
use ww_ipfs::importer::{add_directory, AddOptions, Entry};
#[cfg(feature = "kubo")]
use ww_ipfs::kubo::api::KuboApi;
#[cfg(feature = "kubo")]
use ww_ipfs::kubo::multipart;
use ww_ipfs::pins::Pins;

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// What could not be read.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Something in the tree cannot be put in IPFS as a file or directory.
    #[error("{} is neither a file nor a directory (symlinks and devices are not pushed); remove it or replace it with a copy", path.display())]
    Unsupported {
        /// The entry.
        path: PathBuf,
    },
    /// No data directory was given and there is no HOME.
    #[error("no --data-dir given and HOME is not set; pass --data-dir DIR")]
    NoDataDir,
    /// The IPFS store refused.
    #[error(transparent)]
    Ipfs(#[from] ww_ipfs::error::IpfsError),
    /// No runtime for the HTTP calls to a Kubo RPC API.
    #[error("cannot start the async runtime for --ipfs-url: {0}")]
    Runtime(std::io::Error),
}

/// Adds `dir` and pins it, in the data directory's store or, given
/// `ipfs_url`, through that Kubo RPC API; returns the root CID as text.
///
/// # Errors
///
/// An unreadable tree, a symlink or device in it, or a store error
/// (nothing of the push stays in the store then); an unreachable or
/// refusing API, named.
pub fn push(
    dir: &Path,
    data_dir: Option<PathBuf>,
    cid_version: u8,
    ipfs_url: Option<&str>,
) -> Result<String, PushError> {
    let options = AddOptions::new(cid_version, cid_version == 1)?;
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    if let Some(url) = ipfs_url {
        return push_to_api(url, &files, options);
    }
    let data_dir = data_dir
        .or_else(ww_ipfs::config::default_data_dir)
        .ok_or(PushError::NoDataDir)?;
    let entries: Vec<(String, Entry<'_>)> = files
        .iter()
        .map(|(path, data)| match data {
            Some(data) => (path.clone(), Entry::File(data)),
            None => (path.clone(), Entry::EmptyDirectory),
        })
        .collect();
    let store = Blockstore::open(&data_dir)?;
    let root = add_directory(&store, &entries, options)?;
    let pins = Pins::open(&data_dir)?;
    // Every block is local: pinning only walks the DAG and records the root.
    let blocks = Blocks::new(store, None, Duration::ZERO);
    futures::executor::block_on(pins.pin(&blocks, &root))?;
    Ok(root.to_string())
}

/// Adds `files` through the Kubo RPC API at `url` in one `add` call.
#[cfg(feature = "kubo")]
fn push_to_api(
    url: &str,
    files: &[(String, Option<Vec<u8>>)],
    options: AddOptions,
) -> Result<String, PushError> {
    // Adds wait for the daemon however long it takes; nothing is fetched.
    let api = KuboApi::new(url, ww_ipfs::blocks::DEFAULT_FETCH_TIMEOUT)?;
    let parts: Vec<(String, Option<&[u8]>)> = files
        .iter()
        .map(|(path, data)| (path.clone(), data.as_deref()))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PushError::Runtime)?;
    let root =
        runtime.block_on(api.add_form(multipart::directory(&parts), options, multipart::ROOT))?;
    Ok(root.to_string())
}

/// `--ipfs-url` in a build without the Kubo backend: refused, naming it.
#[cfg(not(feature = "kubo"))]
fn push_to_api(
    url: &str,
    _: &[(String, Option<Vec<u8>>)],
    _: AddOptions,
) -> Result<String, PushError> {
    Err(ww_ipfs::error::IpfsError::NoKubo {
        url: url.to_string(),
    }
    .into())
}

/// Relative path and contents of every file under `dir` (`None` for an
/// empty directory, its path ending in `/`).
fn collect(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, Option<Vec<u8>>)>,
) -> Result<(), PushError> {
    let read = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PushError::Read { path, source }
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(read(dir))?
        .collect::<Result<_, _>>()
        .map_err(read(dir))?;
    entries.sort_by_key(|e| e.file_name());
    let relative = |path: &Path| {
        path.strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    };
    if entries.is_empty() && dir != root {
        out.push((format!("{}/", relative(dir)), None));
    }
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type().map_err(read(&path))?;
        if kind.is_dir() {
            collect(root, &path, out)?;
        } else if kind.is_file() {
            let data = std::fs::read(&path).map_err(read(&path))?;
            out.push((relative(&path), Some(data)));
        } else {
            return Err(PushError::Unsupported { path });
        }
    }
    Ok(())
}
