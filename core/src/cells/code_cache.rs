//! Compiled code in memory: the node's cache of what it compiled or
//! loaded, by content hash, bounded in bytes and least recently used
//! evicted first; and the compiles in flight, so that loads of the same
//! bytes at once compile once.
//!
//! Eviction only forgets: a `Code` capability holds its own reference to
//! the code it was made for, and a running cell holds its linked code, so
//! evicting never breaks a holder; the same bytes loaded again come from
//! the disk cache (about a millisecond) or are compiled again.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures::future::{LocalBoxFuture, Shared, WeakShared};
use ww_provider_sdk::capnp;

use crate::cell::{CellError, Cells as Runner, Linked};
use crate::engine::Code;

/// SHA-256 of the wasm.
pub type Key = [u8; 32];

/// Bytes of compiled code kept in memory when the node does not say
/// (`--code-cache-max-size`).
pub const DEFAULT_MAX_SIZE: usize = 256 << 20;

/// What each entry costs beyond its code image (Wasmtime's metadata, the
/// linker's pre-instance), so that many tiny modules are bounded too.
const ENTRY_OVERHEAD: usize = 16 << 10;

/// Code compiled once, and linked once it has been spawned.
pub struct Compiled {
    code: Code,
    linked: OnceCell<Linked>,
}

impl Compiled {
    /// Fresh, not yet linked.
    pub fn new(code: Code) -> Compiled {
        Compiled {
            code,
            linked: OnceCell::new(),
        }
    }

    /// The code linked for running, linking it on first use.
    ///
    /// # Errors
    ///
    /// When its imports cannot be satisfied.
    pub fn linked(&self, runner: &Runner, name: &str) -> Result<Linked, CellError> {
        if let Some(linked) = self.linked.get() {
            return Ok(linked.clone());
        }
        let linked = runner.link(&self.code, name)?;
        Ok(self.linked.get_or_init(|| linked).clone())
    }

    fn size(&self) -> usize {
        self.code.image_size() + ENTRY_OVERHEAD
    }
}

/// A compile in flight, awaited by every load of the same bytes.
pub type InFlight = Shared<LocalBoxFuture<'static, Result<Rc<Compiled>, capnp::Error>>>;
type CompileFuture = LocalBoxFuture<'static, Result<Rc<Compiled>, capnp::Error>>;

/// Compiled code by content hash, bounded in bytes.
pub struct CodeCache {
    entries: HashMap<Key, Entry>,
    // Weak: a compile every caller gave up on is dropped (with the wasm it
    // holds) rather than kept for a caller that may never come.
    in_flight: HashMap<Key, WeakShared<CompileFuture>>,
    bytes: usize,
    max_bytes: usize,
    clock: u64,
}

struct Entry {
    compiled: Rc<Compiled>,
    size: usize,
    used: u64,
}

impl CodeCache {
    /// Empty, holding at most `max_bytes` (the most recent entry is kept
    /// even when it alone is bigger).
    pub fn new(max_bytes: usize) -> CodeCache {
        CodeCache {
            entries: HashMap::new(),
            in_flight: HashMap::new(),
            bytes: 0,
            max_bytes,
            clock: 0,
        }
    }

    /// The code for `key`, now the most recently used.
    pub fn get(&mut self, key: &Key) -> Option<Rc<Compiled>> {
        self.clock += 1;
        let entry = self.entries.get_mut(key)?;
        entry.used = self.clock;
        Some(entry.compiled.clone())
    }

    /// Whether `key` is held (without counting as a use).
    pub fn contains(&self, key: &Key) -> bool {
        self.entries.contains_key(key)
    }

    /// Holds `compiled` as the most recently used, evicting the least
    /// recently used entries past the cap.
    pub fn insert(&mut self, key: Key, compiled: Rc<Compiled>) {
        self.clock += 1;
        let size = compiled.size();
        let entry = Entry {
            compiled,
            size,
            used: self.clock,
        };
        if let Some(old) = self.entries.insert(key, entry) {
            self.bytes -= old.size;
        }
        self.bytes += size;
        while self.bytes > self.max_bytes && self.entries.len() > 1 {
            let Some(oldest) = self
                .entries
                .iter()
                .filter(|(k, _)| **k != key)
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| *k)
            else {
                break;
            };
            if let Some(gone) = self.entries.remove(&oldest) {
                self.bytes -= gone.size;
            }
        }
    }

    /// The compile of `key` in flight, if any caller still awaits it.
    pub fn in_flight(&self, key: &Key) -> Option<InFlight> {
        self.in_flight.get(key).and_then(WeakShared::upgrade)
    }

    /// Records the compile of `key` in flight (and forgets those every
    /// caller gave up on).
    pub fn start(&mut self, key: Key, compile: &InFlight) {
        self.in_flight.retain(|_, c| c.upgrade().is_some());
        if let Some(weak) = compile.downgrade() {
            self.in_flight.insert(key, weak);
        }
    }

    /// The compile of `key` ended: held when it succeeded.
    pub fn finish(&mut self, key: Key, result: &Result<Rc<Compiled>, capnp::Error>) {
        self.in_flight.remove(&key);
        if let Ok(compiled) = result {
            self.insert(key, compiled.clone());
        }
    }

    /// Entries held and their bytes.
    pub fn usage(&self) -> (usize, usize) {
        (self.entries.len(), self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(engine: &wasmtime::Engine, n: u8) -> Rc<Compiled> {
        let wat = format!("(module (func (export \"_start\") (drop (i32.const {n}))))");
        let module = wasmtime::Module::new(engine, wat::parse_str(wat).unwrap()).unwrap();
        Rc::new(Compiled::new(Code::Module(module)))
    }

    #[test]
    fn the_least_recently_used_entry_goes_first_and_holders_keep_theirs() {
        let engine = wasmtime::Engine::default();
        let one = compiled(&engine, 1).size();
        let mut cache = CodeCache::new(one * 3);
        let held = compiled(&engine, 1);
        cache.insert([1; 32], held.clone());
        cache.insert([2; 32], compiled(&engine, 2));
        cache.insert([3; 32], compiled(&engine, 3));
        assert!(cache.get(&[1; 32]).is_some());
        cache.insert([4; 32], compiled(&engine, 4));
        assert!(!cache.contains(&[2; 32]), "2 was the least recently used");
        for kept in [[1; 32], [3; 32], [4; 32]] {
            assert!(cache.contains(&kept));
        }
        assert!(cache.usage().1 <= one * 3);
        for n in 5..50 {
            cache.insert([n; 32], compiled(&engine, n));
        }
        assert_eq!(cache.usage().0, 3);
        assert!(!cache.contains(&[1; 32]));
        // Its holder still has the code.
        assert!(matches!(held.code, Code::Module(_)));
    }
}
