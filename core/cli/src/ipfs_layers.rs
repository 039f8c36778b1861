//! `/ipfs/<cid>` image layers: fetched through the node's `ipfs`
//! capability (the built-in provider, a `--provider` replacing it, or a
//! Kubo backend) into a scratch directory, then merged like local layers.
//!
//! A layer whose source starts with `/ipfs/` is IPFS content: `/ipfs/<cid>`
//! (a directory merged at the root), `/ipfs/<cid>/sub/dir`, or
//! `/ipfs/<cid>[/path]:/guest/path` (a targeted mount of a file or
//! directory). Fetching shows a progress bar when stderr is a terminal.

use std::path::{Path, PathBuf};

use capnp::capability::FromClientHook;
use indicatif::{ProgressBar, ProgressStyle};
use tempfile::TempDir;
use ww_capnp::ipfs_capnp::{ipfs, unix_fs};
use ww_provider_sdk::Export;

use ww_core::image::Layer;

/// The export the fetch goes through.
pub const IPFS_EXPORT: &str = "ipfs";

/// Why an IPFS layer could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No provider exports `ipfs`.
    #[error(
        "layer `{layer}` is IPFS content, but this ww has no `ipfs` provider; use a ww built \
         with the ipfs feature or pass --provider libww_ipfs.so"
    )]
    NoIpfs {
        /// The layer as given.
        layer: String,
    },
    /// The content could not be listed or read.
    #[error("layer `{layer}`: {reason}")]
    Fetch {
        /// The layer as given.
        layer: String,
        /// What the IPFS provider said.
        reason: String,
    },
    /// Writing the fetched tree failed.
    #[error("layer `{layer}`: writing {} failed: {source}", path.display())]
    Io {
        /// The layer as given.
        layer: String,
        /// Where.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The IPFS path a layer argument reads from, if it is IPFS content.
pub fn ipfs_source(arg: &str) -> Option<String> {
    let source = match Layer::parse(arg).ok()? {
        Layer::Dir(path) => path,
        Layer::Mount { source, .. } => source,
    };
    let text = source.to_str()?;
    text.starts_with("/ipfs/").then(|| text.to_string())
}

/// Whether any layer is IPFS content.
pub fn any(layers: &[String]) -> bool {
    layers.iter().any(|l| ipfs_source(l).is_some())
}

/// Fetches every IPFS layer into `scratch` and returns the layer arguments
/// with each IPFS source replaced by its local copy.
///
/// # Errors
///
/// No `ipfs` export, content that cannot be fetched (the provider's
/// message names the CID), or a local write error.
pub async fn fetch(
    layers: &[String],
    exports: &[Export],
    scratch: &Path,
) -> Result<Vec<String>, FetchError> {
    let mut out = Vec::with_capacity(layers.len());
    for (i, layer) in layers.iter().enumerate() {
        let Some(source) = ipfs_source(layer) else {
            out.push(layer.clone());
            continue;
        };
        let export = exports
            .iter()
            .find(|e| e.name == IPFS_EXPORT)
            .ok_or_else(|| FetchError::NoIpfs {
                layer: layer.clone(),
            })?;
        let ipfs = ipfs::Client::new(export.cap.hook.add_ref());
        let fs = async {
            let reply = ipfs.unixfs_request().send().promise.await?;
            reply.get()?.get_api()
        }
        .await
        .map_err(|e| fetch_error(layer, e))?;
        let dest = scratch.join(format!("layer-{i}"));
        let fetcher = Fetcher {
            fs,
            layer: layer.clone(),
            bar: progress(&source),
        };
        fetcher.get(&source, &dest).await?;
        fetcher.bar.finish_and_clear();
        let local = dest.display().to_string();
        out.push(match layer.rsplit_once(':') {
            Some((_, target)) if target.starts_with('/') => format!("{local}:{target}"),
            _ => local,
        });
    }
    Ok(out)
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
fn progress(source: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec}")
    {
        bar.set_style(style);
    }
    bar.set_message(format!("fetching {source}"));
    bar
}

fn fetch_error(layer: &str, e: capnp::Error) -> FetchError {
    FetchError::Fetch {
        layer: layer.to_string(),
        reason: e.extra,
    }
}

struct Fetcher {
    fs: unix_fs::Client,
    layer: String,
    bar: ProgressBar,
}

impl Fetcher {
    fn io(&self, path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
        let path = path.to_path_buf();
        move |source| FetchError::Io {
            layer: self.layer.clone(),
            path,
            source,
        }
    }

    /// Copies the file or directory at `path` to `dest`.
    async fn get(&self, path: &str, dest: &Path) -> Result<(), FetchError> {
        // Directories are walked breadth-first; a root that is a file
        // (a mount source) is fetched as one.
        let mut pending = vec![(path.to_string(), dest.to_path_buf())];
        let mut first = true;
        while let Some((path, dest)) = pending.pop() {
            let mut request = self.fs.ls_request();
            request.get().set_path(path.as_str());
            let listed = request.send().promise.await;
            let reply = match listed {
                Ok(reply) => reply,
                Err(e) if first && e.extra.contains("is a file, not a directory") => {
                    return self.file(&path, dest.as_path()).await;
                }
                Err(e) => return Err(fetch_error(&self.layer, e)),
            };
            first = false;
            std::fs::create_dir_all(&dest).map_err(self.io(&dest))?;
            let entries = reply
                .get()
                .and_then(|r| r.get_entries())
                .map_err(|e| fetch_error(&self.layer, e))?;
            for entry in entries.iter() {
                let name = entry
                    .get_name()
                    .and_then(|n| Ok(n.to_string()?))
                    .map_err(|e| fetch_error(&self.layer, e))?;
                if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                    return Err(FetchError::Fetch {
                        layer: self.layer.clone(),
                        reason: format!("{path} has an entry named {name:?}, which is unsafe"),
                    });
                }
                let child = format!("{path}/{name}");
                if entry.get_is_directory() {
                    pending.push((child, dest.join(&name)));
                } else {
                    self.bar.inc_length(entry.get_size());
                    self.file(&child, &dest.join(&name)).await?;
                }
            }
        }
        Ok(())
    }

    /// Streams the file at `path` into `dest`.
    async fn file(&self, path: &str, dest: &Path) -> Result<(), FetchError> {
        use std::io::Write;
        let mut request = self.fs.cat_stream_request();
        request.get().set_path(path);
        let stream = async { request.send().promise.await?.get()?.get_stream() }
            .await
            .map_err(|e| fetch_error(&self.layer, e))?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(self.io(parent))?;
        }
        let mut file = std::fs::File::create(dest).map_err(self.io(dest))?;
        loop {
            let mut request = stream.read_request();
            request.get().set_max(1 << 20);
            let reply = request
                .send()
                .promise
                .await
                .map_err(|e| fetch_error(&self.layer, e))?;
            let data = reply
                .get()
                .and_then(|r| r.get_data())
                .map_err(|e| fetch_error(&self.layer, e))?;
            if data.is_empty() {
                return Ok(());
            }
            file.write_all(data).map_err(self.io(dest))?;
            self.bar.inc(data.len() as u64);
        }
    }
}

/// A scratch directory for fetched layers.
///
/// # Errors
///
/// When it cannot be created.
pub fn scratch() -> std::io::Result<TempDir> {
    tempfile::Builder::new()
        .prefix("ww-ipfs-layers-")
        .permissions(ww_core::image::readable())
        .tempdir()
}
