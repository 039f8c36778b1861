//! `ww compile LAYER...`: compiles every WebAssembly file of an image into
//! the compile cache, ahead of time.
//!
//! A runtime-only `ww` (built without the `compiler` feature) links no
//! Cranelift and runs only code it finds compiled in its cache, keyed by
//! the wasm's content hash and the engine's configuration. Compiling with a
//! full build of the same `ww` fills that cache; copy it to the constrained
//! host (or share it) and run there with `--cache-dir`. Artefacts are
//! native code, so they come only from the operator's cache directory,
//! never from an image: an image is content, and may be someone else's.
//!
//! With `--target`, the code is for another machine (an aarch64 board, or
//! Pulley, Wasmtime's interpreter): it is compiled and stored under that
//! target's key, never loaded here.

use std::path::{Path, PathBuf};

use ww_core::engine::{Engine, EngineError, WasmError};
use ww_core::image::{Image, ImageError};
use ww_core::target::Target;

/// Why an image could not be precompiled.
#[derive(Debug, thiserror::Error)]
pub enum PrecompileError {
    /// No `--cache-dir` and no home directory to put the default under.
    #[error("no compile cache directory: pass --cache-dir DIR (or set WW_CACHE_DIR)")]
    NoCacheDir,
    /// The layers could not be merged.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The engine could not be configured.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A WebAssembly file did not compile.
    #[error(transparent)]
    Wasm(#[from] WasmError),
    /// The image could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// What.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The default compile cache, as `ww run` uses it.
///
/// # Errors
///
/// [`PrecompileError::NoCacheDir`] without a home directory.
pub fn cache_dir(given: Option<PathBuf>) -> Result<PathBuf, PrecompileError> {
    given
        .or_else(ww_core::cache::default_dir)
        .ok_or(PrecompileError::NoCacheDir)
}

/// Merges `layers` and compiles each WebAssembly file in the union into the
/// compile cache at `cache_dir`; returns the files compiled (image paths).
/// A core module without `_start` (a library, not a cell) is skipped.
///
/// # Errors
///
/// Layers that do not merge, an unreadable file, or wasm that does not
/// compile (named).
pub fn compile_image(
    layers: &[String],
    cache_dir: &Path,
    target: &Target,
) -> Result<Vec<PathBuf>, PrecompileError> {
    let image = Image::assemble(layers)?;
    let engine = Engine::for_target(Some(cache_dir), 1, target)?;
    let mut files = Vec::new();
    wasm_files(image.root(), &mut files)?;
    files.sort();
    let mut compiled = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file).map_err(|source| PrecompileError::Read {
            path: file.clone(),
            source,
        })?;
        let shown = file
            .strip_prefix(image.root())
            .unwrap_or(&file)
            .to_path_buf();
        let what = shown.display().to_string();
        if !target.runs_here() {
            // Code for another machine: compiled and stored, never loaded.
            engine.precompile_into_cache(&bytes, &what)?;
            compiled.push(shown);
            continue;
        }
        match engine.load(&bytes, &what) {
            Ok(_) => {
                // `load` treats the cache as a shortcut and only logs a
                // failed write; here the stored file is the point.
                if let Some(cache) = engine.cache() {
                    if !cache.path_for(&bytes).is_file() {
                        return Err(PrecompileError::Wasm(WasmError::Store {
                            path: what,
                            reason: format!(
                                "nothing was written to {} (see the warning above)",
                                cache_dir.display()
                            ),
                        }));
                    }
                }
                compiled.push(shown)
            }
            Err(WasmError::NoEntryPoint { .. }) => {
                tracing::info!("{}: a core module without _start, skipped", shown.display());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(compiled)
}

/// Every regular file under `dir` that starts with the wasm magic number.
fn wasm_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), PrecompileError> {
    let read = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PrecompileError::Read { path, source }
    };
    for entry in std::fs::read_dir(dir).map_err(read(dir))? {
        let entry = entry.map_err(read(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(read(&path))?;
        if kind.is_dir() {
            wasm_files(&path, out)?;
        } else if kind.is_file() && starts_with_magic(&path).map_err(read(&path))? {
            out.push(path);
        }
    }
    Ok(())
}

fn starts_with_magic(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let mut file = std::fs::File::open(path)?;
    Ok(file.read(&mut magic)? == 4 && magic == *b"\0asm")
}
