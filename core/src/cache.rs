//! The on-disk compile cache.
//!
//! Compiling a component with Cranelift takes hundreds of milliseconds;
//! loading the compiled artefact takes about one. Artefacts are keyed by the
//! SHA-256 of the wasm and by [`engine_key`] (the ww version, the target and
//! the engine configuration ww sets), which a build without a compiler can
//! compute too: that is how a runtime-only ww finds what `ww compile` put
//! here. Wasmtime checks on load that an artefact matches its version, its
//! configuration and this CPU; one that does not is recompiled and
//! replaced (or, in a runtime-only build, refused: it is never run).
//!
//! # Size cap
//!
//! The directory holds at most [`CompileCache::max_size`] bytes of
//! artefacts (`--cache-max-size`): after each store, the least recently
//! used artefacts are removed until the total fits. "Used" is the file's
//! mtime, set when it is written and again at every hit (atime is not
//! trusted: `noatime` and `relatime` mounts do not keep it). An artefact
//! bigger than the whole cap is not kept.
//!
//! # Sharing the directory
//!
//! Several `ww` processes may use one directory at once. Files are written
//! whole under a temporary name and renamed into place, so no process ever
//! sees a torn artefact under a valid key. Eviction only unlinks: a process
//! that has an artefact open (or mapped, as deserialization does) keeps
//! reading the same inode, and one that finds the file gone compiles again.
//! Two processes evicting at once may each remove a file the other counted;
//! the cap then holds with room to spare. Temporary files older than an hour
//! (left by a writer that crashed) are removed too.
//!
//! # Hazard
//!
//! Loading an artefact runs native code produced by a compiler, so the cache
//! directory must be as trusted as the `ww` binary (it is the operator's own,
//! `0700`). An artefact that fails to load is recompiled and replaced.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Module;

use crate::target::Target;

/// Bytes of artefacts a cache directory holds when the node does not say.
pub const DEFAULT_MAX_SIZE: u64 = 1 << 30;

/// Temporary files older than this are a crashed writer's leftovers.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// Compiled code on disk, by content hash, least recently used evicted
/// first.
pub struct CompileCache {
    dir: PathBuf,
    engine_key: String,
    max_size: u64,
}

impl CompileCache {
    /// A cache in `dir` for code compiled for `target`, capped at
    /// [`DEFAULT_MAX_SIZE`].
    pub fn new(dir: &Path, target: &Target) -> Self {
        CompileCache {
            dir: dir.to_path_buf(),
            engine_key: engine_key(target),
            max_size: DEFAULT_MAX_SIZE,
        }
    }

    /// The same cache holding at most `bytes` of artefacts.
    pub fn with_max_size(mut self, bytes: u64) -> Self {
        self.max_size = bytes;
        self
    }

    /// The cap on the bytes of artefacts in the directory.
    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// Where the artefact for `wasm` lives (whether or not it exists).
    pub fn path_for(&self, wasm: &[u8]) -> PathBuf {
        self.path_for_key(&key(wasm))
    }

    /// Where the artefact for the wasm whose SHA-256 is `key` lives.
    pub fn path_for_key(&self, key: &[u8; 32]) -> PathBuf {
        self.dir
            .join(format!("{}-{}.cwasm", hex::encode(key), self.engine_key))
    }

    /// The artefact for the wasm whose SHA-256 is `key` (see [`key`]),
    /// loaded by `load`, when the cache holds a
    /// usable one; a hit counts as a use for eviction. An unusable artefact
    /// is logged and treated as a miss (the caller compiles and stores a
    /// new one over it).
    pub fn get<T>(
        &self,
        key: &[u8; 32],
        load: impl FnOnce(&Path) -> wasmtime::Result<T>,
    ) -> Option<T> {
        let path = self.path_for_key(key);
        if !path.is_file() {
            return None;
        }
        match load(&path) {
            Ok(loaded) => {
                tracing::debug!(path = %path.display(), "compiled code from cache");
                touch(&path);
                Some(loaded)
            }
            Err(e) => {
                // Gone between the check and the load (another process
                // evicted it) is an ordinary miss.
                if path.is_file() {
                    let then = match crate::engine::CAN_COMPILE {
                        true => "recompiling",
                        false => "not running it (this ww cannot compile)",
                    };
                    tracing::warn!(
                        path = %path.display(),
                        "cached artefact is unusable ({e:#}); {then}"
                    );
                }
                None
            }
        }
    }

    /// Stores `artefact` as the compiled form of the wasm whose SHA-256 is
    /// `key`, then evicts the
    /// least recently used artefacts past the cap. Failures are logged and
    /// never fail a load: the cache is only a shortcut.
    pub fn put(&self, key: &[u8; 32], artefact: &[u8]) {
        let path = self.path_for_key(key);
        if artefact.len() as u64 > self.max_size {
            tracing::debug!(
                bytes = artefact.len(),
                cap = self.max_size,
                "compiled artefact is bigger than the whole cache (--cache-max-size); not cached"
            );
            return;
        }
        if let Err(e) = self.store(&path, artefact) {
            tracing::warn!(dir = %self.dir.display(), "cannot write the compile cache: {e}");
            return;
        }
        self.evict();
    }

    /// Stores `artefact` for the wasm whose SHA-256 is `key`, as [`put`]
    /// does, but says why it could not: for `ww compile`, whose whole
    /// point is the stored file.
    ///
    /// [`put`]: CompileCache::put
    ///
    /// # Errors
    ///
    /// The artefact is bigger than the cache's cap, or the file could not
    /// be written.
    pub fn put_checked(&self, key: &[u8; 32], artefact: &[u8]) -> Result<PathBuf, String> {
        if artefact.len() as u64 > self.max_size {
            return Err(format!(
                "the compiled code ({} bytes) is bigger than the whole cache ({} bytes): raise \
                 --cache-max-size",
                artefact.len(),
                self.max_size
            ));
        }
        let path = self.path_for_key(key);
        self.store(&path, artefact)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.evict();
        Ok(path)
    }

    /// The cached artefact for `wasm`, or `compile()`'s result, stored for
    /// next time. Cache failures are logged and never fail the load.
    pub fn get_or_compile<E>(
        &self,
        engine: &wasmtime::Engine,
        wasm: &[u8],
        compile: impl FnOnce() -> Result<Component, E>,
    ) -> Result<Component, E> {
        // SAFETY: the file was written by `put` from Wasmtime's own
        // serialization for an engine with this compatibility hash, in a
        // directory as trusted as this binary (see the module docs).
        let key = key(wasm);
        let cached = self.get(&key, |path| unsafe {
            Component::deserialize_file(engine, path)
        });
        if let Some(component) = cached {
            return Ok(component);
        }
        let component = compile()?;
        #[cfg(feature = "compiler")]
        match component.serialize() {
            Ok(bytes) => self.put(&key, &bytes),
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
        // SAFETY: as in `get_or_compile`.
        let key = key(wasm);
        let cached = self.get(&key, |path| unsafe {
            Module::deserialize_file(engine, path)
        });
        if let Some(module) = cached {
            return Ok(module);
        }
        let module = compile()?;
        #[cfg(feature = "compiler")]
        match module.serialize() {
            Ok(bytes) => self.put(&key, &bytes),
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

    /// Removes the least recently used artefacts until the directory holds
    /// at most the cap, and temporary files a crashed writer left.
    fn evict(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        let mut artefacts = Vec::new();
        let mut total = 0u64;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if name.ends_with(".cwasm") {
                total += meta.len();
                artefacts.push((used, meta.len(), entry.path()));
            } else if name.starts_with(".tmp")
                && now.duration_since(used).unwrap_or_default() > STALE_TEMP
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        if total <= self.max_size {
            return;
        }
        artefacts.sort();
        let mut removed = 0usize;
        for (_, len, path) in artefacts {
            if total <= self.max_size {
                break;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                // Another process evicted it first: it is gone either way.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), "cannot evict from the compile cache: {e}");
                    continue;
                }
            }
            total -= len;
        }
        tracing::debug!(
            removed,
            bytes = total,
            cap = self.max_size,
            "compile cache: evicted the least recently used artefacts"
        );
    }
}

/// The part of an artefact's file name that names the engine it is for:
/// the ww version, the target, and the configuration ww gives Wasmtime
/// ([`code_config`](crate::engine::code_config), described by
/// [`ENGINE_CONFIG`](crate::engine::ENGINE_CONFIG)). A build with a
/// compiler and one without compute the same key; Wasmtime's own check
/// on load covers what the key does not (its version, CPU features).
pub fn engine_key(target: &Target) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let (arch, os) = target.key_parts();
    (
        env!("CARGO_PKG_VERSION"),
        arch.as_str(),
        os.as_str(),
        crate::engine::ENGINE_CONFIG,
    )
        .hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// The content key of `wasm`: its SHA-256.
pub fn key(wasm: &[u8]) -> [u8; 32] {
    Sha256::digest(wasm).into()
}

/// Marks `path` as just used (its mtime is the eviction order).
fn touch(path: &Path) {
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.set_modified(SystemTime::now());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_in(dir: &Path) -> (usize, u64) {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
            .fold((0, 0), |(n, b), e| (n + 1, b + e.metadata().unwrap().len()))
    }

    #[test]
    fn the_least_recently_used_artefacts_go_first_and_the_cap_holds() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path(), &Target::host()).with_max_size(3000);
        let age = |wasm: &[u8], secs: u64| {
            let file = std::fs::File::open(cache.path_for(wasm)).unwrap();
            file.set_modified(SystemTime::now() - Duration::from_secs(secs))
                .unwrap();
        };
        cache.put(&key(b"a"), &[0; 1000]);
        age(b"a", 30);
        cache.put(&key(b"b"), &[0; 1000]);
        age(b"b", 20);
        cache.put(&key(b"c"), &[0; 1000]);
        age(b"c", 10);
        // A hit makes `a` the most recently used.
        assert_eq!(
            cache.get(&key(b"a"), |p| Ok(std::fs::read(p)?.len())),
            Some(1000)
        );
        cache.put(&key(b"d"), &[0; 1000]);
        assert!(
            !cache.path_for(b"b").exists(),
            "b was the least recently used"
        );
        for kept in [&b"a"[..], b"c", b"d"] {
            assert!(cache.path_for(kept).exists());
        }
        assert_eq!(bytes_in(dir.path()), (3, 3000));
        // Bigger than the whole cap: not kept, nothing else evicted for it.
        cache.put(&key(b"huge"), &[0; 4000]);
        assert!(!cache.path_for(b"huge").exists());
        assert_eq!(bytes_in(dir.path()), (3, 3000));
    }

    #[test]
    fn an_evicted_artefact_is_a_miss_and_a_reader_keeps_what_it_opened() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path(), &Target::host()).with_max_size(1000);
        cache.put(&key(b"a"), &[7; 1000]);
        let mut open = std::fs::File::open(cache.path_for(b"a")).unwrap();
        cache.put(&key(b"b"), &[8; 1000]);
        assert!(cache.get(&key(b"a"), |p| Ok(std::fs::read(p)?)).is_none());
        let mut read = Vec::new();
        std::io::Read::read_to_end(&mut open, &mut read).unwrap();
        assert_eq!(
            read,
            vec![7; 1000],
            "the evicted file stays readable to its reader"
        );
    }
}
