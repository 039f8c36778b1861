//! The Wasmtime engine every cell of a node runs on.
//!
//! One engine per process: its configuration decides what compiled code is
//! compatible with, so the compile cache is keyed by it too (see [`cache`]).
//!
//! - **Time slices.** Wasmtime's epoch interruption is on and a ticker thread
//!   advances the engine's epoch every [`TICK`] that ends while a cell's
//!   code is on the node's thread: the running cell yields (so one busy
//!   cell cannot starve its siblings or the RPC servers on the same
//!   thread), its CPU budget is checked, and the [`cpu`](crate::cpu)
//!   scheduler chooses who runs next. While no cell is running at its
//!   ticks, the ticker sleeps [`IDLE_TICK`] instead (see [`start_ticker`]).
//! - **Instances.** The pooling allocator (pre-reserved slots, copy-on-write
//!   heap images) makes instantiation cheap; where the host cannot reserve
//!   its address space the engine falls back to on-demand allocation.
//!
//! [`cache`]: crate::cache

use std::path::{Path, PathBuf};
use std::time::Duration;

use wasmtime::component::Component;
use wasmtime::Module;

use crate::cache::CompileCache;
use crate::compile::{CompileOptions, Compiler};
use crate::cpu::{Busy, Scheduler};
use crate::target::Target;

/// How often a running cell yields: the longest slice of the thread a cell
/// holds at a time, and so what the control plane (and a cell that was
/// idle) may wait, per hop, behind busy cells (see [`cpu`](crate::cpu)).
pub const TICK: Duration = Duration::from_millis(2);

/// How long the ticker sleeps once it has found no cell running at
/// [`IDLE_AFTER`] ticks in a row: the longest first slice of a cell that
/// starts to run on a node that was idle.
pub const IDLE_TICK: Duration = Duration::from_millis(10);

/// Ticks in a row with no cell running before the ticker slows to
/// [`IDLE_TICK`].
const IDLE_AFTER: u32 = 4;

/// Live component instances the pooling allocator reserves slots for when
/// the node does not say (see [`Engine::with_pool`]).
pub const DEFAULT_POOL: u32 = 1000;
/// Largest linear memory a pooled slot holds, and so the largest memory
/// limit a cell may have (see [`memory_budget`](crate::memory_budget)).
pub const POOL_MEMORY: usize = 256 << 20;

/// Compiled code: a WASI P2 component or a WASI P1 core module.
#[derive(Clone)]
pub enum Code {
    /// A component exporting `wasi:cli/run`.
    Component(Component),
    /// A core module exporting `_start`.
    Module(Module),
}

/// What is wrong with a wasm binary, in terms a guest author can act on.
#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// No wasm magic number.
    #[error("{path} is not a WebAssembly file (it does not start with \\0asm); build the guest with `ww build <crate dir>`")]
    NotWasm {
        /// The file.
        path: String,
    },
    /// A core module where a component is needed.
    #[error("{path} is a core WebAssembly module; ww boots WASI P2 components: build for the wasm32-wasip2 target (`ww build <crate dir>`)")]
    CoreModule {
        /// The file.
        path: String,
    },
    /// A core module with no `_start` to run.
    #[error("{path} is a core module without a `_start` export, so it cannot run as a cell; build it as a WASI command (a binary with fn main)")]
    NoEntryPoint {
        /// The file.
        path: String,
    },
    /// A runtime-only build (no `compiler` feature) found no precompiled
    /// code for it in the compile cache.
    #[error(
        "{path} is not precompiled for this engine, and this ww cannot compile WebAssembly (it \
         was built without the `compiler` feature): run `ww compile IMAGE --cache-dir DIR` with a \
         full build of the same ww version for this target, then `ww run --cache-dir DIR IMAGE` here"
    )]
    NotPrecompiled {
        /// The file.
        path: String,
    },
    /// Its compiled code could not be stored in the compile cache.
    #[error("cannot store the compiled code of {path}: {reason}")]
    Store {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Wasmtime rejected it (truncated, malformed, unsupported feature).
    #[error("{path} is not a valid component: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// Wasmtime's explanation.
        reason: String,
    },
}

impl WasmError {
    /// Exit status for this failure, following the cell API.
    pub fn exit_code(&self) -> i32 {
        match self {
            WasmError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                crate::limits::status::NOT_FOUND
            }
            _ => crate::limits::status::NOT_EXECUTABLE,
        }
    }
}

/// Why the engine could not be created.
#[derive(Debug, thiserror::Error)]
#[error("cannot configure the WebAssembly engine: {0}")]
pub struct EngineError(String);

impl EngineError {
    /// Wasmtime's refusal of an engine for `target`.
    fn for_target(target: &Target, e: impl std::fmt::Display) -> EngineError {
        match target.wasmtime_target() {
            None => EngineError(e.to_string()),
            Some(triple) => EngineError(format!(
                "{e} (for target {triple}; a ww built without the `cross` feature compiles \
                 only for its own host and, with `pulley`, for Pulley)"
            )),
        }
    }
}

/// The Wasmtime engine and the compile cache in front of it.
pub struct Engine {
    engine: wasmtime::Engine,
    target: Target,
    cache: Option<CompileCache>,
    compiler: Compiler,
    cpu: Scheduler,
}

impl Engine {
    /// Builds the engine; `cache_dir` enables the on-disk compile cache.
    ///
    /// # Errors
    ///
    /// When Wasmtime refuses the configuration on this host.
    pub fn new(cache_dir: Option<&Path>) -> Result<Engine, EngineError> {
        Self::with_pool(cache_dir, DEFAULT_POOL)
    }

    /// Like [`Engine::new`], with pooled slots for `instances` live cells
    /// (a node sizes it from its cell limit).
    ///
    /// # Errors
    ///
    /// When Wasmtime refuses the configuration on this host.
    pub fn with_pool(cache_dir: Option<&Path>, instances: u32) -> Result<Engine, EngineError> {
        Self::for_target(cache_dir, instances, &Target::host())
    }

    /// Like [`Engine::with_pool`], for code of `target`: the host's own,
    /// Pulley (interpreted, where this build has the interpreter), or
    /// another machine's, which this engine only compiles (into the cache,
    /// for `ww compile --target`) and never runs.
    ///
    /// # Errors
    ///
    /// When Wasmtime refuses the configuration, or this build has no
    /// compiler backend for `target`.
    pub fn for_target(
        cache_dir: Option<&Path>,
        instances: u32,
        target: &Target,
    ) -> Result<Engine, EngineError> {
        let instances = instances.max(1);
        let config = code_config(target)?;
        if !target.runs_here() {
            // Compiling only: no slots to reserve, no cells to tick.
            let engine =
                wasmtime::Engine::new(&config).map_err(|e| EngineError::for_target(target, e))?;
            let cache = cache_dir.map(|dir| CompileCache::new(dir, target));
            return Ok(Engine {
                engine,
                target: target.clone(),
                cache,
                compiler: Compiler::new(CompileOptions::default()),
                cpu: Scheduler::new(),
            });
        }
        let mut pooling = wasmtime::PoolingAllocationConfig::default();
        pooling
            .total_component_instances(instances)
            .total_core_instances(instances.saturating_mul(4))
            .total_memories(instances.saturating_mul(2))
            .total_tables(instances.saturating_mul(4))
            .total_stacks(instances)
            .max_memory_size(POOL_MEMORY);
        let mut pooled = config.clone();
        pooled.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pooling));
        let engine = match wasmtime::Engine::new(&pooled) {
            Ok(engine) => engine,
            Err(e) => {
                tracing::warn!("pooling instance allocator unavailable ({e:#}); allocating instances on demand");
                wasmtime::Engine::new(&config).map_err(|e| EngineError::for_target(target, e))?
            }
        };
        let cpu = Scheduler::new();
        start_ticker(&engine, cpu.busy());
        let cache = cache_dir.map(|dir| CompileCache::new(dir, target));
        Ok(Engine {
            engine,
            target: target.clone(),
            cache,
            compiler: Compiler::new(CompileOptions::default()),
            cpu,
        })
    }

    /// Who of the cells on this engine runs next (see [`cpu`](crate::cpu)).
    pub fn cpu(&self) -> &Scheduler {
        &self.cpu
    }

    /// The underlying Wasmtime engine.
    pub fn wasmtime(&self) -> &wasmtime::Engine {
        &self.engine
    }

    /// The machine this engine's code is for.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Loads the component at `path`, from the compile cache when it holds
    /// this exact code for this engine.
    ///
    /// # Errors
    ///
    /// When the file cannot be read or is not a valid WASI P2 component.
    pub fn load_component(&self, path: &Path) -> Result<Component, WasmError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| WasmError::Read {
            path: shown.clone(),
            source,
        })?;
        self.component_from_bytes(&bytes, &shown)
    }

    /// Compiles a component or a core module with `_start` (cached).
    ///
    /// # Errors
    ///
    /// When `bytes` is neither, or does not validate.
    pub fn load(&self, bytes: &[u8], what: &str) -> Result<Code, WasmError> {
        match classify(bytes) {
            Kind::NotWasm => Err(WasmError::NotWasm {
                path: what.to_string(),
            }),
            Kind::Component => self.component_from_bytes(bytes, what).map(Code::Component),
            Kind::Module => {
                let compile = || compile_module(&self.engine, bytes, what);
                let module = match &self.cache {
                    Some(cache) => cache.get_or_compile_module(&self.engine, bytes, compile)?,
                    None => compile()?,
                };
                if module.get_export("_start").is_none() {
                    return Err(WasmError::NoEntryPoint {
                        path: what.to_string(),
                    });
                }
                Ok(Code::Module(module))
            }
        }
    }

    /// Like [`Engine::load_component`], for bytes already in memory; `what`
    /// names them in errors.
    ///
    /// # Errors
    ///
    /// When `bytes` is not a valid WASI P2 component.
    pub fn component_from_bytes(&self, bytes: &[u8], what: &str) -> Result<Component, WasmError> {
        match classify(bytes) {
            Kind::NotWasm => {
                return Err(WasmError::NotWasm {
                    path: what.to_string(),
                })
            }
            Kind::Module => {
                return Err(WasmError::CoreModule {
                    path: what.to_string(),
                })
            }
            Kind::Component => {}
        }
        let compile = || compile_component(&self.engine, bytes, what);
        match &self.cache {
            Some(cache) => cache.get_or_compile(&self.engine, bytes, compile),
            None => compile(),
        }
    }
}

impl Engine {
    /// Compiles `bytes` for this engine's target straight into the compile
    /// cache, loading nothing: how `ww compile --target` fills a cache for
    /// another machine, whose code this host cannot load. Returns the
    /// artefact's path.
    ///
    /// # Errors
    ///
    /// When `bytes` is not wasm or does not validate, this build cannot
    /// compile, or the artefact could not be stored.
    pub fn precompile_into_cache(&self, bytes: &[u8], what: &str) -> Result<PathBuf, WasmError> {
        let Some(cache) = &self.cache else {
            return Err(WasmError::Store {
                path: what.to_string(),
                reason: "no compile cache directory was given".into(),
            });
        };
        let artefact = precompile(&self.engine, bytes, what)?;
        cache
            .put_checked(&crate::cache::key(bytes), &artefact)
            .map_err(|reason| WasmError::Store {
                path: what.to_string(),
                reason,
            })
    }
}

/// What [`code_config`] sets, as text: part of the compile cache's key
/// (see [`crate::cache::engine_key`]). Change it with the configuration.
pub const ENGINE_CONFIG: &str = "component-model; concurrency-support off; epoch-interruption";

/// The part of the engine's configuration that compiled code depends on
/// (a compile worker builds its engine from it alone, so its artefacts load
/// into the node's engine; the allocator is not part of it).
///
/// # Errors
///
/// When Wasmtime does not know `target`.
pub fn code_config(target: &Target) -> Result<wasmtime::Config, EngineError> {
    // Keep ENGINE_CONFIG in step: it names this configuration in cache keys.
    let mut config = wasmtime::Config::new();
    if let Some(triple) = target.wasmtime_target() {
        config
            .target(&triple)
            .map_err(|e| EngineError::for_target(target, e))?;
    }
    config.wasm_component_model(true);
    // Component-model async bookkeeping roughly doubles the cost of a
    // trivial host call (FIELD-NOTES); cells use WASI P2 streams instead.
    config.concurrency_support(false);
    config.epoch_interruption(true);
    Ok(config)
}

impl Engine {
    /// The on-disk compile cache, when the node has one.
    pub fn cache(&self) -> Option<&CompileCache> {
        self.cache.as_ref()
    }

    /// The same engine compiling cells' code within `options`.
    pub fn with_compile_options(mut self, options: CompileOptions) -> Engine {
        self.compiler = Compiler::new(options);
        self
    }

    /// What compiles cells' code, within its bounds.
    pub fn compiler(&self) -> &Compiler {
        &self.compiler
    }

    /// The same engine with its disk cache capped at `bytes` (see
    /// [`CompileCache`]).
    pub fn with_cache_max_size(mut self, bytes: u64) -> Engine {
        self.cache = self.cache.map(|c| c.with_max_size(bytes));
        self
    }

    /// Checks that `bytes` is a component or a core module before anything
    /// is spent compiling it.
    ///
    /// # Errors
    ///
    /// When `bytes` does not start like either.
    pub fn check_wasm(bytes: &[u8], what: &str) -> Result<(), WasmError> {
        match classify(bytes) {
            Kind::NotWasm => Err(WasmError::NotWasm {
                path: what.to_string(),
            }),
            Kind::Module | Kind::Component => Ok(()),
        }
    }

    /// The code for the wasm whose SHA-256 is `key` from the disk cache, if
    /// it holds it (a cheap deserialization: nothing is compiled).
    pub fn cached(&self, key: &[u8; 32], what: &str) -> Option<Result<Code, WasmError>> {
        let cache = self.cache.as_ref()?;
        let engine = &self.engine;
        let code = cache.get(key, |path| {
            // SAFETY: the cache holds only artefacts Wasmtime serialized for
            // an engine with this compatibility hash, in a directory as
            // trusted as this binary (see `cache`).
            Ok(match wasmtime::Engine::detect_precompiled_file(path)? {
                Some(wasmtime::Precompiled::Component) => {
                    Code::Component(unsafe { Component::deserialize_file(engine, path)? })
                }
                _ => Code::Module(unsafe { Module::deserialize_file(engine, path)? }),
            })
        })?;
        Some(runnable(code, what))
    }

    /// Loads an artefact [`precompile`] made (here or in a compile
    /// worker) and stores it in the disk cache under `key`, the SHA-256 of
    /// its wasm.
    ///
    /// # Errors
    ///
    /// When the artefact does not load into this engine, or is a core
    /// module without `_start`.
    pub fn from_artefact(
        &self,
        key: &[u8; 32],
        artefact: &[u8],
        what: &str,
    ) -> Result<Code, WasmError> {
        let invalid = |e: wasmtime::Error| WasmError::Invalid {
            path: what.to_string(),
            reason: format!("compiled code does not load: {e:#}"),
        };
        // SAFETY: `artefact` comes from `precompile`, run by this process or
        // by a compile worker that is this same binary (see `compile`).
        let code = match wasmtime::Engine::detect_precompiled(artefact) {
            Some(wasmtime::Precompiled::Component) => Code::Component(
                unsafe { Component::deserialize(&self.engine, artefact) }.map_err(invalid)?,
            ),
            _ => Code::Module(
                unsafe { Module::deserialize(&self.engine, artefact) }.map_err(invalid)?,
            ),
        };
        let code = runnable(code, what)?;
        if let Some(cache) = &self.cache {
            cache.put(key, artefact);
        }
        Ok(code)
    }
}

impl Code {
    /// Bytes of compiled machine code and data it keeps mapped.
    pub fn image_size(&self) -> usize {
        let range = match self {
            Code::Component(c) => c.image_range(),
            Code::Module(m) => m.image_range(),
        };
        (range.end as usize).saturating_sub(range.start as usize)
    }
}

/// Compiles a component (with Cranelift, when built with the `compiler`
/// feature; a runtime-only build refuses, naming the fix).
fn compile_component(
    engine: &wasmtime::Engine,
    bytes: &[u8],
    what: &str,
) -> Result<Component, WasmError> {
    #[cfg(feature = "compiler")]
    return Component::new(engine, bytes).map_err(|e| WasmError::Invalid {
        path: what.to_string(),
        reason: format!("{e:#}"),
    });
    #[cfg(not(feature = "compiler"))]
    return {
        let _ = (engine, bytes);
        Err(WasmError::NotPrecompiled {
            path: what.to_string(),
        })
    };
}

/// [`compile_component`] for core modules.
fn compile_module(
    engine: &wasmtime::Engine,
    bytes: &[u8],
    what: &str,
) -> Result<Module, WasmError> {
    #[cfg(feature = "compiler")]
    return Module::new(engine, bytes).map_err(|e| WasmError::Invalid {
        path: what.to_string(),
        reason: format!("{e:#}"),
    });
    #[cfg(not(feature = "compiler"))]
    return {
        let _ = (engine, bytes);
        Err(WasmError::NotPrecompiled {
            path: what.to_string(),
        })
    };
}

/// Whether this build can compile WebAssembly (the `compiler` feature);
/// without it, only code precompiled into the compile cache runs.
pub const CAN_COMPILE: bool = cfg!(feature = "compiler");

/// Compiles `wasm` to an artefact (Wasmtime's serialized code) on the
/// calling thread: the work a compile worker does (see [`crate::compile`]).
///
/// # Errors
///
/// When `wasm` is not a component or core module, or does not validate;
/// always [`WasmError::NotPrecompiled`] in a build without the `compiler`
/// feature.
pub fn precompile(
    engine: &wasmtime::Engine,
    wasm: &[u8],
    what: &str,
) -> Result<Vec<u8>, WasmError> {
    let invalid = |e: wasmtime::Error| WasmError::Invalid {
        path: what.to_string(),
        reason: format!("{e:#}"),
    };
    match classify(wasm) {
        Kind::NotWasm => Err(WasmError::NotWasm {
            path: what.to_string(),
        }),
        #[cfg(feature = "compiler")]
        Kind::Module => engine.precompile_module(wasm).map_err(invalid),
        #[cfg(feature = "compiler")]
        Kind::Component => engine.precompile_component(wasm).map_err(invalid),
        #[cfg(not(feature = "compiler"))]
        Kind::Module | Kind::Component => {
            let _ = (engine, invalid);
            Err(WasmError::NotPrecompiled {
                path: what.to_string(),
            })
        }
    }
}

/// Refuses a core module that cannot run as a cell.
fn runnable(code: Code, what: &str) -> Result<Code, WasmError> {
    if let Code::Module(module) = &code {
        if module.get_export("_start").is_none() {
            return Err(WasmError::NoEntryPoint {
                path: what.to_string(),
            });
        }
    }
    Ok(code)
}

/// Advances the engine's epoch at each [`TICK`] that finds a cell's code on
/// the node's thread, for as long as the process lives.
///
/// Ticks only matter to a cell that is running: one that ended before the
/// tick has nothing to cut. Advancing the epoch while every cell waits
/// would even cost them: a cell's deadline is one epoch past its last
/// slice, so a cell woken by a reply after an idle tick would be cut at its
/// first instruction, for one more turn of the runtime per wake-up. And a
/// thread that wakes every 2 ms costs a request-response node more than its
/// own few microseconds (measured on 2 vCPUs: ~20 % more CPU per remote
/// call than at 10 ms; `bench/RESULTS.md`). So the ticker advances the
/// epoch only when a cell is running, and after [`IDLE_AFTER`] ticks with
/// none it sleeps [`IDLE_TICK`] instead, until it finds one again.
fn start_ticker(engine: &wasmtime::Engine, busy: Busy) {
    let engine = engine.clone();
    let spawned = std::thread::Builder::new()
        .name("ww-ticker".into())
        .spawn(move || {
            let mut idle = 0u32;
            loop {
                std::thread::sleep(if idle < IDLE_AFTER { TICK } else { IDLE_TICK });
                if busy.running() {
                    engine.increment_epoch();
                    idle = 0;
                } else {
                    idle = idle.saturating_add(1);
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the time-slice ticker ({e}); busy cells will not yield");
    }
}

enum Kind {
    NotWasm,
    Module,
    Component,
}

/// Reads the preamble: `\0asm`, then a version whose layer field tells a
/// core module (layer 0) from a component (layer 1).
fn classify(bytes: &[u8]) -> Kind {
    match bytes {
        [0, b'a', b's', b'm', _, _, 0, 0, ..] => Kind::Module,
        [0, b'a', b's', b'm', _, _, 1, 0, ..] => Kind::Component,
        _ => Kind::NotWasm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_wasm_and_core_modules_with_a_hint() {
        let engine = Engine::new(None).unwrap();
        let err = engine
            .component_from_bytes(b"#!/bin/sh\n", "x")
            .unwrap_err();
        assert!(matches!(err, WasmError::NotWasm { .. }), "{err}");
        let module = [0, b'a', b's', b'm', 1, 0, 0, 0];
        let err = engine.component_from_bytes(&module, "m").unwrap_err();
        assert!(matches!(err, WasmError::CoreModule { .. }), "{err}");
        assert!(err.to_string().contains("wasm32-wasip2"));
    }

    #[test]
    fn core_modules_need_start() {
        let engine = Engine::new(None).unwrap();
        // (module) — the smallest valid core module: no exports at all.
        let empty = [0, b'a', b's', b'm', 1, 0, 0, 0];
        let err = engine.load(&empty, "m").err().unwrap();
        assert!(matches!(err, WasmError::NoEntryPoint { .. }), "{err}");
    }

    #[test]
    fn a_truncated_component_is_invalid_not_a_panic() {
        let engine = Engine::new(None).unwrap();
        let truncated = [0, b'a', b's', b'm', 0x0d, 0, 1, 0, 1, 0xff];
        let err = engine.component_from_bytes(&truncated, "t").unwrap_err();
        assert!(matches!(err, WasmError::Invalid { .. }), "{err}");
    }
}
