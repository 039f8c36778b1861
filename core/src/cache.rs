//! The on-disk compile cache.
//!
//! Compiling a component with Cranelift takes hundreds of milliseconds;
//! loading the compiled artefact takes about one. Artefacts are keyed by the
//! SHA-256 of the wasm and by the engine's compatibility hash, so a new
//! Wasmtime or a different engine configuration never loads stale code.
//!
//! # Hazard
//!
//! Loading an artefact runs native code produced by a compiler, so the cache
//! directory must be as trusted as the `ww` binary (it is the operator's own,
//! `0700`). Files are written whole to a temporary name and renamed, so a
//! crash never leaves a torn artefact under a valid key; an artefact that
//! fails to load is recompiled and replaced.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Module;

/// Compiled components on disk, by content hash.
pub struct CompileCache {
    dir: PathBuf,
    engine_key: String,
}

impl CompileCache {
    /// A cache in `dir` for code compiled by `engine`.
    pub fn new(dir: &Path, engine: &wasmtime::Engine) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        CompileCache {
            dir: dir.to_path_buf(),
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    /// Where the artefact for `wasm` lives (whether or not it exists).
    pub fn path_for(&self, wasm: &[u8]) -> PathBuf {
        let digest = hex::encode(Sha256::digest(wasm));
        self.dir.join(format!("{digest}-{}.cwasm", self.engine_key))
    }

    /// The cached artefact for `wasm`, or `compile()`'s result, stored for
    /// next time. Cache failures are logged and never fail the load.
    pub fn get_or_compile<E>(
        &self,
        engine: &wasmtime::Engine,
        wasm: &[u8],
        compile: impl FnOnce() -> Result<Component, E>,
    ) -> Result<Component, E> {
        let path = self.path_for(wasm);
        if path.is_file() {
            // SAFETY: the file was written by `store` below from Wasmtime's own
            // serialization for an engine with this compatibility hash, in a
            // directory as trusted as this binary (see the module docs).
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => {
                    tracing::debug!(path = %path.display(), "compiled component from cache");
                    return Ok(component);
                }
                Err(e) => tracing::warn!(
                    path = %path.display(),
                    "cached artefact is unusable ({e:#}); recompiling"
                ),
            }
        }
        let component = compile()?;
        match component.serialize() {
            Ok(bytes) => {
                if let Err(e) = self.store(&path, &bytes) {
                    tracing::warn!(dir = %self.dir.display(), "cannot write the compile cache: {e:#}");
                }
            }
            Err(e) => tracing::warn!("cannot serialize a compiled component: {e:#}"),
        }
        Ok(component)
    }

    /// [`CompileCache::get_or_compile`] for core modules.
    pub fn get_or_compile_module<E>(
        &self,
        engine: &wasmtime::Engine,
        wasm: &[u8],
        compile: impl FnOnce() -> Result<Module, E>,
    ) -> Result<Module, E> {
        let path = self.path_for(wasm);
        if path.is_file() {
            // SAFETY: as in `get_or_compile`.
            match unsafe { Module::deserialize_file(engine, &path) } {
                Ok(module) => return Ok(module),
                Err(e) => tracing::warn!(
                    path = %path.display(),
                    "cached artefact is unusable ({e:#}); recompiling"
                ),
            }
        }
        let module = compile()?;
        match module.serialize() {
            Ok(bytes) => {
                if let Err(e) = self.store(&path, &bytes) {
                    tracing::warn!(dir = %self.dir.display(), "cannot write the compile cache: {e:#}");
                }
            }
            Err(e) => tracing::warn!("cannot serialize a compiled module: {e:#}"),
        }
        Ok(module)
    }

    fn store(&self, path: &Path, bytes: &[u8]) -> Result<(), String> {
        create_private_dir(&self.dir).map_err(|e| e.to_string())?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir).map_err(|e| e.to_string())?;
        std::io::Write::write_all(&mut tmp, bytes).map_err(|e| e.to_string())?;
        tmp.persist(path).map_err(|e| e.to_string())?;
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// The default cache directory (`--cache-dir` / `WW_CACHE_DIR` override it):
/// `$XDG_CACHE_HOME/ww`, else `~/.cache/ww`; `None` when neither is known.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("ww"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".cache").join("ww"))
}
