//! `ww push DIR`: adds a directory (an image) to this node's IPFS store,
//! pins it and returns its CID — the same CID `ipfs add -r DIR` gives with
//! Kubo's defaults.
//!
//! It writes the store directly (no network): a node later started with the
//! same data directory serves the content and announces its pins. With
//! `--ipfs-url` it adds to a Kubo-compatible RPC API instead (pinned there,
//! as `ipfs add -r` pins), for nodes that run with the same `--ipfs-url`.

use std::path::{Path, PathBuf};

use ww_ipfs::{AddOptions, TreeEntry};

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
    Ipfs(#[from] ww_ipfs::IpfsError),
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
    let tree: Vec<TreeEntry<'_>> = files
        .iter()
        .map(|(path, data)| (path.clone(), data.as_deref()))
        .collect();
    if let Some(url) = ipfs_url {
        return push_to_api(url, &tree, options);
    }
    let data_dir = data_dir
        .or_else(ww_ipfs::default_data_dir)
        .ok_or(PushError::NoDataDir)?;
    let root = ww_ipfs::add_pinned(&data_dir, &tree, options)?;
    Ok(root.to_string())
}

/// Adds `tree` through the Kubo RPC API at `url` in one `add` call.
#[cfg(feature = "kubo")]
fn push_to_api(
    url: &str,
    tree: &[TreeEntry<'_>],
    options: AddOptions,
) -> Result<String, PushError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PushError::Runtime)?;
    let root = runtime.block_on(ww_ipfs::add_through_api(url, tree, options))?;
    Ok(root.to_string())
}

/// `--ipfs-url` in a build without the Kubo backend: refused, naming it.
#[cfg(not(feature = "kubo"))]
fn push_to_api(url: &str, _: &[TreeEntry<'_>], _: AddOptions) -> Result<String, PushError> {
    Err(ww_ipfs::IpfsError::NoKubo {
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
