//! Images: FHS trees merged from layers.
//!
//! `ww run A B C` merges its layers per file: later layers win, directories
//! merge, nothing is deleted. A layer is a local directory, or
//! `SOURCE:/guest/path`, which places a file or directory at one path of the
//! image (a targeted mount, e.g. a key at `/etc/id`). Only the union needs
//! a kernel: `boot/main.wasm`, or `boot/main`, a native executable (an ELF
//! binary or a `#!` script, run as a [`native`](crate::native) cell), not
//! both.
//!
//! A layer whose source starts with `/ipfs/` is IPFS content, fetched
//! first by [`ipfs_layers`](crate::ipfs_layers) into a local copy.
//!
//! A single directory layer is used in place. Anything else is assembled in
//! a scratch directory that lives as long as the [`Image`]: files are
//! hard-linked where the file system allows it and copied otherwise, so the
//! sources are never modified. The cell sees the result read-only.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use tempfile::TempDir;

mod rebase;

pub use rebase::{Base, Rebasable, Replaced};

/// Where the kernel of an image lives, relative to its root.
pub const BOOT: &str = "boot/main.wasm";

/// Where a native kernel lives instead, relative to the root.
pub const NATIVE_BOOT: &str = "boot/main";

/// An image's kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// `boot/main.wasm`, on the host.
    Wasm(PathBuf),
    /// `boot/main`, on the host.
    Native(PathBuf),
}

/// Why an image could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A layer argument names a path that does not exist.
    #[error("layer `{layer}`: {path} does not exist; check the path (layers are directories or SOURCE:/guest/path mounts)")]
    Missing {
        /// The layer as given.
        layer: String,
        /// The path that was looked up.
        path: PathBuf,
    },
    /// A plain layer is not a directory.
    #[error("layer `{layer}` is a file, not a directory; to place a file in the image use `{layer}:/guest/path`")]
    NotADirectory {
        /// The layer as given.
        layer: String,
    },
    /// A mount target is not an absolute, normal guest path.
    #[error("layer `{layer}`: mount target `{target}` must be an absolute guest path without `..` (e.g. /etc/id)")]
    BadTarget {
        /// The layer as given.
        layer: String,
        /// The target part.
        target: String,
    },
    /// The merged image has no `boot/main.wasm`.
    #[error("no layer provides boot/main.wasm (layers: {}); an image needs one — build it with `ww build <guest crate dir>` (or a native executable at boot/main)", layers.join(", "))]
    NoBoot {
        /// Every layer, in order.
        layers: Vec<String>,
    },
    /// The merged image has two kernels.
    #[error("the image has both boot/main.wasm and boot/main (a native kernel) (layers: {}); remove one so it is clear which runs as pid0", layers.join(", "))]
    TwoBoots {
        /// Every layer, in order.
        layers: Vec<String>,
    },
    /// A base swap was asked of an image that is a layer used in place.
    #[error("the image root {} is the layer itself; a base swap needs a merged image (a bug in ww)", root.display())]
    InPlace {
        /// The root.
        root: PathBuf,
    },
    /// Updating the live root with a new base failed midway.
    #[error(
        "swapping the base layer into {} failed: {source}; {}",
        root.display(),
        if *swapped_back { "the previous base was swapped back" } else { "swapping the previous base back failed too, so cells may see a mix of both until the next head; check the disk (space, permissions)" }
    )]
    Swap {
        /// The live root.
        root: PathBuf,
        /// The cause.
        source: io::Error,
        /// Whether the previous base is in place again.
        swapped_back: bool,
    },
    /// Reading a layer or writing the merged tree failed.
    #[error("assembling the image from layer `{layer}` failed at {path}: {source}")]
    Io {
        /// The layer being merged.
        layer: String,
        /// The path that failed.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// One layer argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layer {
    /// A local directory merged at the image root.
    Dir(PathBuf),
    /// A file or directory placed at `target` (absolute, inside the image).
    Mount {
        /// Host path of the file or directory.
        source: PathBuf,
        /// Guest path, relative to the image root (no leading `/`).
        target: PathBuf,
    },
}

impl Layer {
    /// Parses `DIR` or `SOURCE:/guest/path`.
    ///
    /// A `:` only separates a mount when what follows it starts with `/`, so
    /// host paths with colons still work as plain layers.
    ///
    /// # Errors
    ///
    /// When the mount target is not a normal absolute path.
    pub fn parse(arg: &str) -> Result<Layer, ImageError> {
        match arg.rsplit_once(':') {
            Some((source, target)) if target.starts_with('/') && !source.is_empty() => {
                let relative = Path::new(target)
                    .components()
                    .filter(|c| !matches!(c, Component::RootDir))
                    .collect::<Vec<_>>();
                let normal = relative.iter().all(|c| matches!(c, Component::Normal(_)));
                if !normal || relative.is_empty() {
                    return Err(ImageError::BadTarget {
                        layer: arg.to_string(),
                        target: target.to_string(),
                    });
                }
                Ok(Layer::Mount {
                    source: PathBuf::from(source),
                    target: relative.iter().collect(),
                })
            }
            _ => Ok(Layer::Dir(PathBuf::from(arg))),
        }
    }
}

/// A merged image, ready to be handed to a cell read-only.
#[derive(Debug)]
pub struct Image {
    root: PathBuf,
    layers: Vec<String>,
    // Keeps the merged tree alive; `None` when a single layer is used in place.
    _scratch: Option<TempDir>,
}

impl Image {
    /// Merges `layers` (the arguments as given, in order).
    ///
    /// # Errors
    ///
    /// A missing layer, a bad mount, an I/O failure, or no `boot/main.wasm`
    /// in the union.
    pub fn assemble(args: &[String]) -> Result<Image, ImageError> {
        Image::build(args, None)
    }

    /// Merges `layers` into `root`, an empty directory chosen before the
    /// layers were ready (IPFS layers are fetched after the providers
    /// start, and the cell runtime needs the image's root before that).
    ///
    /// # Errors
    ///
    /// As [`Image::assemble`].
    pub fn assemble_into(args: &[String], root: TempDir) -> Result<Image, ImageError> {
        Image::build(args, Some(root))
    }

    fn build(args: &[String], root: Option<TempDir>) -> Result<Image, ImageError> {
        let layers = args
            .iter()
            .map(|a| Layer::parse(a).map(|l| (a.clone(), l)))
            .collect::<Result<Vec<_>, _>>()?;
        for (arg, layer) in &layers {
            let path = match layer {
                Layer::Dir(p) => p,
                Layer::Mount { source, .. } => source,
            };
            let meta = fs::metadata(path).map_err(|_| ImageError::Missing {
                layer: arg.clone(),
                path: path.clone(),
            })?;
            if matches!(layer, Layer::Dir(_)) && !meta.is_dir() {
                return Err(ImageError::NotADirectory { layer: arg.clone() });
            }
        }
        let image = match (layers.as_slice(), root) {
            ([(_, Layer::Dir(dir))], None) => Image {
                root: dir.clone(),
                layers: args.to_vec(),
                _scratch: None,
            },
            (_, root) => merge(&layers, root)?,
        };
        image.entry()?;
        Ok(image)
    }

    /// An image with nothing in it, for a native executable run alone
    /// (`ww run ./program`): its root is an empty directory that lives as
    /// long as the image.
    ///
    /// # Errors
    ///
    /// When the directory cannot be created.
    pub fn empty(program: &str) -> Result<Image, ImageError> {
        let scratch = tempfile::Builder::new()
            .prefix("ww-image-")
            .permissions(readable())
            .tempdir()
            .map_err(|source| ImageError::Io {
                layer: program.to_string(),
                path: std::env::temp_dir(),
                source,
            })?;
        Ok(Image {
            root: scratch.path().to_path_buf(),
            layers: Vec::new(),
            _scratch: Some(scratch),
        })
    }

    /// The image's kernel: `boot/main.wasm` or a native `boot/main`.
    ///
    /// # Errors
    ///
    /// When it has neither, or both.
    pub fn entry(&self) -> Result<Entry, ImageError> {
        entry(&self.root, &self.layers)
    }

    /// The merged tree on the host.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host path of `boot/main.wasm`.
    pub fn boot(&self) -> PathBuf {
        self.root.join(BOOT)
    }

    /// The layers as given, in order.
    pub fn layers(&self) -> &[String] {
        &self.layers
    }
}

/// The mode of an image's scratch root: readable by every user, since a
/// jailed native cell runs as `nobody` when the node is root (the files in
/// it keep their own modes).
pub fn readable() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o755)
}

/// The kernel of the tree at `root`, merged from `layers`.
fn entry(root: &Path, layers: &[String]) -> Result<Entry, ImageError> {
    let (wasm, native) = (root.join(BOOT), root.join(NATIVE_BOOT));
    match (wasm.is_file(), native.is_file()) {
        (true, false) => Ok(Entry::Wasm(wasm)),
        (false, true) => Ok(Entry::Native(native)),
        (true, true) => Err(ImageError::TwoBoots {
            layers: layers.to_vec(),
        }),
        (false, false) => Err(ImageError::NoBoot {
            layers: layers.to_vec(),
        }),
    }
}

fn merge(layers: &[(String, Layer)], root: Option<TempDir>) -> Result<Image, ImageError> {
    let scratch = match root {
        Some(root) => root,
        None => tempfile::Builder::new()
            .prefix("ww-image-")
            .permissions(readable())
            .tempdir()
            .map_err(|source| ImageError::Io {
                layer: layers.first().map(|(a, _)| a.clone()).unwrap_or_default(),
                path: std::env::temp_dir(),
                source,
            })?,
    };
    for (arg, layer) in layers {
        let io = |path: &Path| {
            let (layer, path) = (arg.clone(), path.to_path_buf());
            move |source| ImageError::Io {
                layer,
                path,
                source,
            }
        };
        match layer {
            Layer::Dir(dir) => merge_tree(dir, scratch.path(), &io)?,
            Layer::Mount { source, target } => {
                let dest = scratch.path().join(target);
                if let Some(parent) = dest.parent() {
                    make_dir(parent).map_err(io(parent))?;
                }
                if source.is_dir() {
                    make_dir(&dest).map_err(io(&dest))?;
                    merge_tree(source, &dest, &io)?;
                } else {
                    place_file(source, &dest).map_err(io(source))?;
                }
            }
        }
    }
    Ok(Image {
        root: scratch.path().to_path_buf(),
        layers: layers.iter().map(|(a, _)| a.clone()).collect(),
        _scratch: Some(scratch),
    })
}

fn merge_tree<F, E>(from: &Path, to: &Path, io: &F) -> Result<(), ImageError>
where
    F: Fn(&Path) -> E,
    E: FnOnce(io::Error) -> ImageError,
{
    let entries = fs::read_dir(from).map_err(io(from))?;
    for entry in entries {
        let entry = entry.map_err(io(from))?;
        let src = entry.path();
        let dest = to.join(entry.file_name());
        let kind = entry.file_type().map_err(io(&src))?;
        if kind.is_dir() {
            make_dir(&dest).map_err(io(&dest))?;
            merge_tree(&src, &dest, io)?;
        } else if kind.is_symlink() {
            // Links are kept as links: WASI resolves them inside the image
            // and refuses any that point outside it.
            remove_existing(&dest).map_err(io(&dest))?;
            let target = fs::read_link(&src).map_err(io(&src))?;
            std::os::unix::fs::symlink(target, &dest).map_err(io(&dest))?;
        } else {
            place_file(&src, &dest).map_err(io(&src))?;
        }
    }
    Ok(())
}

/// Creates `dir`, replacing a file an earlier layer put there.
fn make_dir(dir: &Path) -> io::Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => {
            fs::remove_file(dir)?;
            fs::create_dir_all(dir)
        }
        Err(_) => fs::create_dir_all(dir),
    }
}

/// Later layers win: whatever an earlier layer put at `dest` is replaced.
fn place_file(src: &Path, dest: &Path) -> io::Result<()> {
    remove_existing(dest)?;
    fs::hard_link(src, dest).or_else(|_| fs::copy(src, dest).map(drop))
}

fn remove_existing(dest: &Path) -> io::Result<()> {
    match fs::symlink_metadata(dest) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(dest),
        Ok(_) => fs::remove_file(dest),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests;
