//! Command-line arguments of the `ww` binary.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use ww_core::rpc_budget::RpcLimits;

/// ww: a peer-to-peer runtime for sandboxed WebAssembly agents.
#[derive(Debug, Parser)]
#[command(name = "ww", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Boot an image: merge LAYERs and run boot/main.wasm (or a native
    /// boot/main) as pid0; or run one executable file as a native pid0.
    Run(RunArgs),
    /// Show what providers export, require and read, and their ABI
    /// fingerprint (a library) or protocol and needs (a process).
    ///
    /// With no PATH, lists the providers built into this ww, with their
    /// methods. A provider program is started, jailed, for its handshake,
    /// then stopped.
    Providers {
        /// Provider libraries (libww_<name>.so) or programs.
        paths: Vec<PathBuf>,
        /// Start provider programs without the jail (see `ww run --no-jail`).
        #[arg(long)]
        no_jail: bool,
        /// Let provider programs read PATH, as `ww run --ro` does.
        #[arg(long = "ro", value_name = "PATH")]
        read_only: Vec<PathBuf>,
    },
    /// Create a node identity key (Ed25519, PKCS#8 PEM, mode 0600).
    Keygen {
        /// Where to write the key.
        #[arg(long, short)]
        output: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Add an image tree (or any directory) to this node's IPFS store, pin
    /// it, and print its CID; `ww run /ipfs/<CID>` boots it on any node that
    /// can reach this one.
    Push {
        /// The directory to add.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The node's data directory [default: ~/.ww].
        #[arg(long, env = "WW_DATA_DIR", value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// CID version: 0 (Kubo's default, Qm…) or 1 (bafy…, with raw leaves).
        #[arg(long, default_value_t = 0, value_name = "N")]
        cid_version: u8,
        /// Add to (and pin on) this Kubo-compatible RPC API instead of the
        /// data directory's store.
        #[arg(long, env = "WW_IPFS", value_name = "URL")]
        ipfs_url: Option<String>,
        #[command(flatten)]
        publish: PublishArgs,
    },
    /// Check the IPFS store of a data directory: every block hashes to its
    /// name, every pin's DAG is whole, no leftovers of interrupted writes.
    /// Exit status 0 when clean (or repaired), 1 when damage was found and
    /// left, 2 when the check could not run.
    Check {
        /// The node's data directory [default: ~/.ww].
        #[arg(long, env = "WW_DATA_DIR", value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Remove corrupt blocks, dangling pins and leftovers (not while a
        /// node or `ww push` uses the directory).
        #[arg(long)]
        repair: bool,
        /// Then remove every block no pin reaches.
        #[arg(long)]
        gc: bool,
    },
    /// Create a project in NAME: a guest that `ww build NAME` and `ww run
    /// NAME` take as is (it signs a message and spawns a child), or with
    /// --provider a capability provider crate (its own schema, a library
    /// for `ww run --provider`, a test).
    ///
    /// The project depends on the SDK by path: --sdk (or WW_GUEST_SDK,
    /// WW_PROVIDER_SDK) names it, relative paths are written relative to
    /// the project; without it only a project inside the checkout this ww
    /// was built from finds the SDK.
    Init {
        /// The project's directory; its last component names the crate.
        name: PathBuf,
        /// A provider crate instead of a guest.
        #[arg(long)]
        provider: bool,
        /// With --provider: also an executable serving the provider as a
        /// process (`ww run --provider target/debug/NAME`).
        #[arg(long, requires = "provider")]
        process: bool,
        /// The SDK: std/guest (or providers/sdk with --provider) of a ww
        /// checkout, or the checkout itself [env: WW_GUEST_SDK or
        /// WW_PROVIDER_SDK].
        #[arg(long, value_name = "DIR")]
        sdk: Option<PathBuf>,
    },
    /// Open the shell of a running node: log in to its terminal over libp2p
    /// and evaluate Glia there (interactively on a terminal, or each form of
    /// piped stdin).
    Shell(ShellArgs),
    /// Build a guest crate for wasm32-wasip2 into DIR/boot/main.wasm.
    Build {
        /// The guest crate's directory (it doubles as the image directory).
        dir: PathBuf,
        /// Which binary, when the crate has several.
        #[arg(long)]
        bin: Option<String>,
    },
    /// Precompile every WebAssembly file of an image (components and core
    /// modules) into the compile cache, for this engine, so that a
    /// runtime-only ww (built without the `compiler` feature) can run it
    /// with the same cache directory.
    Compile {
        /// Image layers, as for `ww run` (local directories).
        #[arg(required = true, value_name = "LAYER")]
        layers: Vec<String>,
        /// The compile cache to fill [default: $XDG_CACHE_HOME/ww or ~/.cache/ww].
        #[arg(long, env = "WW_CACHE_DIR", value_name = "DIR")]
        cache_dir: Option<PathBuf>,
        /// Compile for another machine: a target triple such as
        /// aarch64-unknown-linux-gnu (a ww built with the `cross` feature),
        /// or pulley64, Wasmtime's portable interpreter [default: this host].
        #[arg(long, value_name = "TRIPLE", value_parser = parse_target)]
        target: Option<ww_core::target::Target>,
    },
    /// Print the completion script for SHELL, e.g. `source <(ww completions
    /// bash)`, or save it where the shell loads completions from.
    Completions {
        /// bash, elvish, fish, powershell or zsh.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print ww's manual page, or COMMAND's (roff): `ww man run > ww-run.1
    /// && man ./ww-run.1`.
    Man {
        /// A command (`run`, `compile`, …) [default: ww's own page].
        command: Option<String>,
    },
    /// A compile worker of a running node (wasm on stdin, compiled code on
    /// stdout); the node starts it, people do not.
    #[command(name = "compile-worker", hide = true)]
    CompileWorker {
        /// The worker ends itself after this many milliseconds.
        #[arg(long, value_name = "MS")]
        timeout_ms: u64,
        /// The node's target, when not this host's.
        #[arg(long, value_name = "TRIPLE", value_parser = parse_target)]
        target: Option<ww_core::target::Target>,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Image layers, merged per file, later wins: DIR, or SOURCE:/guest/path
    /// to place one file or directory. A single executable file instead
    /// runs as a native pid0 with an empty image.
    #[arg(required = true, value_name = "LAYER")]
    pub layers: Vec<String>,
    /// Arguments for pid0, after `--`.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
    /// Load a provider (repeatable): a shared library (libww_<name>.so),
    /// loaded into ww; or an executable (any language), run as a provider
    /// process, jailed like a native cell, spoken to over a socket at its
    /// fd 3 after a versioned handshake. A process that dies takes only
    /// itself down: its capabilities fail naming it, and it is restarted
    /// (see --provider-restart). A provider that exports a name a built-in
    /// exports replaces the built-in.
    #[arg(long = "provider", value_name = "PATH")]
    pub providers: Vec<PathBuf>,
    /// Grant a provider process what its manifest says it needs beyond
    /// its jail's default (repeatable): NAME:network (the host's network),
    /// NAME:ro=PATH (read a host path), NAME:rw=PATH (read and write it).
    /// A need not granted refuses the provider (status 2); `ww providers
    /// PROGRAM` shows its needs.
    #[arg(long = "provider-grant", value_name = "NAME:WHAT", value_parser = parse_grant)]
    pub provider_grants: Vec<ww_core::registry::grants::Grant>,
    /// When a provider process ends: `backoff` starts it again after 100
    /// ms, doubling to 30 s while it keeps dying young
    /// (`backoff:MIN_MS-MAX_MS` sets both); `off` leaves it down. Cells
    /// get a restarted provider's capabilities at their next graft.
    #[arg(
        long,
        default_value = "backoff",
        value_name = "POLICY",
        value_parser = parse_restart
    )]
    pub provider_restart: ww_core::registry::restart::Restart,
    /// The node identity key (see `ww keygen`); without it, an ephemeral key.
    #[arg(long, env = "WW_IDENTITY", value_name = "PATH")]
    pub identity: Option<PathBuf>,
    /// Pass an environment variable to pid0 (repeatable); a bare KEY passes
    /// ww's own value. WW_ENV=A,B passes ww's own A and B (those it has);
    /// --env wins for the same name. pid0 sees no other environment.
    #[arg(long = "env", value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,
    /// Pass ww's descriptor N to a native pid0 under NAME (repeatable).
    /// fd 3 is the cell's RPC socket; passed descriptors follow from fd 4
    /// in flag order, and the cell's environment says where each one is:
    /// WW_FD_<NAME>=<fd> (NAME upper-cased), which is what to read.
    #[arg(long = "fd", value_name = "NAME=N", value_parser = parse_fd)]
    pub fds: Vec<ww_core::native::fds::PassedFd>,
    /// Let a native pid0 and provider programs read PATH (a file or a
    /// tree: an interpreter's prefix, a script's libraries), besides the
    /// pid0's image and each program's own directory (repeatable; the jail
    /// grants nothing else on the host).
    #[arg(long = "ro", value_name = "PATH")]
    pub read_only: Vec<PathBuf>,
    /// Run native cells and provider processes without the jail: they can
    /// then read and write what ww's user can, use the network and any
    /// amount of memory. Said once as a warning. Without it, they run
    /// jailed (as nobody when ww is root: what they are given must be
    /// readable by nobody), or not at all where this host cannot jail them.
    #[arg(long)]
    pub no_jail: bool,
    /// Let cells spawn native executables of the image (ELF or #! files)
    /// as children through their Executor, jailed like a native pid0 (or
    /// not, with --no-jail).
    #[arg(long)]
    pub allow_native_children: bool,
    /// Provider configuration (repeatable); see `ww providers` for the keys.
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_setting)]
    pub config: Vec<(String, String)>,
    /// Where compiled components are cached [default: $XDG_CACHE_HOME/ww or ~/.cache/ww].
    #[arg(long, env = "WW_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Compile every time; do not read or write the compile cache (wins
    /// over --cache-dir and WW_CACHE_DIR).
    #[arg(long)]
    pub no_cache: bool,
    /// On SIGHUP, end the current epoch: every capability handed out so far
    /// fails with staleEpoch and cells must graft again. Not with --stem,
    /// whose epochs are the Atom's seq.
    #[arg(long, conflicts_with = "stem")]
    pub revoke_on_hup: bool,
    /// Cells (children of pid0 and theirs) alive at once on this node.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_cells: u32,
    /// Memory limit of a child cell that sets none, in MiB [default: 64].
    /// A spawn may ask for its own, up to 256 (an instance slot).
    #[arg(long, value_name = "MIB")]
    pub max_memory: Option<usize>,
    /// Calls a cell may have in flight (sent, not yet answered); at the
    /// bound the node stops reading the cell's RPC connection until some
    /// are answered.
    #[arg(long, default_value_t = RpcLimits::CALLS, value_name = "N")]
    pub max_calls_in_flight: usize,
    /// Bytes of a cell's calls in flight, as sent (back-pressure at the
    /// bound, as for calls).
    #[arg(long, default_value_t = RpcLimits::CALL_BYTES, value_name = "BYTES")]
    pub max_call_bytes: usize,
    /// Bytes of answers and calls toward a cell that it has not read
    /// (back-pressure at the bound, as for calls).
    #[arg(long, default_value_t = RpcLimits::QUEUED_BYTES, value_name = "BYTES")]
    pub max_queued_bytes: usize,
    /// Capabilities a cell may hold at once; a call or graft that would
    /// hand it more fails with `overloaded`.
    #[arg(long, default_value_t = RpcLimits::CAPS, value_name = "N")]
    pub max_caps: usize,
    /// Memory limit of pid0, in MiB (at most 256, an instance slot)
    /// [default: 256]. Past it pid0 stops with status 125.
    #[arg(long, value_name = "MIB")]
    pub max_memory_pid0: Option<usize>,
    /// The node's memory budget, in MiB: the memory limits of all live
    /// cells, pid0 included, each with what its RPC bounds let it make the
    /// node hold (--max-call-bytes + --max-queued-bytes + --max-caps × 4
    /// KiB), may add up to this; a spawn that does not fit is refused
    /// (Overloaded) [default: half the machine's memory, or of its
    /// cgroup's limit].
    #[arg(long, value_name = "MIB")]
    pub max_memory_total: Option<usize>,
    /// Listen for libp2p peers on this multiaddr (repeatable; WW_LISTEN
    /// takes a comma-separated list) [default: TCP and QUIC on
    /// 127.0.0.1:2025].
    #[arg(
        long = "listen",
        env = "WW_LISTEN",
        value_name = "MULTIADDR",
        value_delimiter = ','
    )]
    pub listen: Vec<String>,
    /// Listen on TCP and QUIC at this port on 127.0.0.1 (short for two
    /// --listen; 0 picks a free port) [default: 2025].
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// The node's data directory: IPFS blocks and pins live in DIR/ipfs
    /// [default: ~/.ww].
    #[arg(long, env = "WW_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Serve ipfs (cells' cat/ls/add/pin and /ipfs/<cid> layers) through
    /// this Kubo-compatible RPC API, e.g. http://127.0.0.1:5001, instead of
    /// the embedded store.
    #[arg(long, env = "WW_IPFS", value_name = "URL")]
    pub ipfs_url: Option<String>,
    /// Serve the kernel's shell as a Model Context Protocol server on stdio
    /// (tools: eval, caps, call), for AI agents; pid0's output goes to stderr.
    #[arg(long)]
    pub mcp: bool,
    /// Join a network through this peer, a multiaddr ending in /p2p/<id>
    /// (repeatable).
    #[arg(long = "bootstrap", value_name = "MULTIADDR", value_delimiter = ',')]
    pub bootstrap: Vec<String>,
    /// Also let the holder of this key log in to the node's terminal
    /// (`ww shell`); the node's own key always may. KEY is a public key in
    /// hex (as `ww keygen` prints it) or a file: keys in hex one a line, a
    /// PEM public key, or a key file from `ww keygen` (repeatable).
    #[arg(long = "allow-key", value_name = "KEY|FILE")]
    pub allow_keys: Vec<String>,
    #[command(flatten)]
    pub stem: StemArgs,
    #[command(flatten)]
    pub compile: CompileArgs,
}

/// Bounds on compiling the code cells load, and on the code caches.
#[derive(Debug, Args)]
pub struct CompileArgs {
    /// Largest wasm (module or component), in MiB, a cell may have the node
    /// compile; bigger is refused before anything is spent on it.
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    pub max_module_size: usize,
    /// Seconds one compile of a cell's code may run; at the deadline its
    /// compile worker is stopped and the load fails (a debug build of ww
    /// compiles far slower and defaults to 600).
    #[arg(
        long,
        default_value_t = ww_core::compile::DEFAULT_TIMEOUT.as_secs_f64(),
        value_name = "SECS",
        value_parser = parse_seconds
    )]
    pub compile_timeout: f64,
    /// Seconds of compiling each cell may spend per 10 minutes (refilled
    /// as time passes); a cell past it is refused until it refills (a debug
    /// build of ww defaults to 1200).
    #[arg(
        long,
        default_value_t = ww_core::compile::DEFAULT_BUDGET.as_secs_f64(),
        value_name = "SECS",
        value_parser = parse_seconds
    )]
    pub compile_budget: f64,
    /// MiB of compiled code the node keeps in memory (the least recently
    /// used is dropped first; running cells keep theirs).
    #[arg(long, default_value_t = 256, value_name = "MIB")]
    pub code_cache_max_size: usize,
    /// MiB of compiled code kept in the cache directory (the least recently
    /// used is removed first; several ww may share the directory).
    #[arg(
        long,
        env = "WW_CACHE_MAX_SIZE",
        default_value_t = 1024,
        value_name = "MIB"
    )]
    pub cache_max_size: u64,
    /// Run code for TRIPLE rather than for this host: pulley64 (or
    /// pulley32) runs cells in Wasmtime's portable interpreter, slower than
    /// native code, where the build has the `pulley` feature.
    #[arg(long, value_name = "TRIPLE", value_parser = parse_target)]
    pub target: Option<ww_core::target::Target>,
}

impl CompileArgs {
    /// The node's compile options; workers run from this very binary.
    pub fn options(&self) -> ww_core::compile::CompileOptions {
        use std::time::Duration;
        ww_core::compile::CompileOptions {
            max_module_size: self.max_module_size.saturating_mul(1 << 20),
            timeout: Duration::from_secs_f64(self.compile_timeout),
            budget: Duration::from_secs_f64(self.compile_budget),
            // The running binary's own file, even if it was replaced since.
            worker: Some(PathBuf::from("/proc/self/exe")),
            code_cache_max_size: self.code_cache_max_size.saturating_mul(1 << 20),
            cache_max_size: self.cache_max_size.saturating_mul(1 << 20),
        }
    }
}

/// `ww shell`.
#[derive(Debug, Args)]
pub struct ShellArgs {
    /// The node's multiaddr, ending in /p2p/<peer id> (a node logs it at
    /// start: `remote shell: ww shell …`).
    #[arg(value_name = "MULTIADDR")]
    pub addr: String,
    /// The key to log in with (see `ww keygen`): the node's own key, or one
    /// the node allows with --allow-key.
    #[arg(long, env = "WW_IDENTITY", value_name = "PATH")]
    pub identity: PathBuf,
    /// Seconds each step of reaching the node and logging in may take.
    #[arg(long, default_value_t = 10.0, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: f64,
    /// Serve the node's shell as a Model Context Protocol server on stdio
    /// (tools: eval, caps, call), for AI agents.
    #[arg(long)]
    pub mcp: bool,
}

/// `ww push --stem`: also move an Atom's head to the pushed CID.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Call setHead(CID) on the Atom at ADDR (nodes following it move to
    /// the image once the update is deep enough).
    #[arg(long, value_name = "ADDR", requires = "private_key_file")]
    pub stem: Option<String>,
    /// The chain's JSON-RPC over HTTP.
    #[arg(long, env = "WW_RPC_URL", default_value = "http://127.0.0.1:8545")]
    pub rpc_url: String,
    /// The Atom owner's private key: 32 bytes as hex, in a file.
    #[arg(long, value_name = "FILE")]
    pub private_key_file: Option<PathBuf>,
}

/// `--stem` and the flags that go with it.
#[derive(Debug, Args)]
pub struct StemArgs {
    /// Follow the Atom contract at ADDR: each head it finalizes starts a new
    /// epoch (every capability handed out before fails with staleEpoch).
    #[arg(long, env = "WW_STEM", value_name = "ADDR")]
    pub stem: Option<String>,
    /// The chain's JSON-RPC over HTTP (backfill, checks at depth, `ww push`).
    #[arg(long, env = "WW_RPC_URL", default_value = "http://127.0.0.1:8545")]
    pub rpc_url: String,
    /// The chain's JSON-RPC over WebSocket (subscriptions).
    #[arg(long, env = "WW_WS_URL", default_value = "ws://127.0.0.1:8545")]
    pub ws_url: String,
    /// Blocks mined on top of a head update before the node adopts it.
    #[arg(long, default_value_t = 6, value_name = "K")]
    pub confirmation_depth: u64,
    /// Grace, in milliseconds, for calls in flight before an epoch's
    /// capabilities are revoked.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub epoch_drain: u64,
    /// Where the stem's cursor is kept [default: $XDG_STATE_HOME/ww/stem/CHAIN-ADDR.json].
    #[arg(long, value_name = "PATH")]
    pub stem_cursor: Option<PathBuf>,
}

impl StemArgs {
    /// The node's stem options, when `--stem` is given.
    pub fn options(&self) -> Option<ww::stem::StemOptions> {
        Some(ww::stem::StemOptions {
            atom: self.stem.clone()?,
            rpc_url: self.rpc_url.clone(),
            ws_url: self.ws_url.clone(),
            depth: self.confirmation_depth,
            drain: std::time::Duration::from_millis(self.epoch_drain),
            cursor: self.stem_cursor.clone(),
        })
    }
}

impl RunArgs {
    /// The network flags as the host provider's config (`listen`,
    /// `bootstrap`): they win over `--config` for the same keys.
    pub fn network_config(&self) -> Vec<(String, String)> {
        let mut listen = self.listen.clone();
        if let Some(port) = self.port {
            listen.push(format!("/ip4/127.0.0.1/tcp/{port}"));
            listen.push(format!("/ip4/127.0.0.1/udp/{port}/quic-v1"));
        }
        let mut config = Vec::new();
        if !listen.is_empty() {
            config.push(("listen".to_string(), listen.join(",")));
        }
        if let Some(dir) = &self.data_dir {
            config.push(("data-dir".to_string(), dir.display().to_string()));
        }
        if !self.bootstrap.is_empty() {
            config.push(("bootstrap".to_string(), self.bootstrap.join(",")));
        }
        if let Some(url) = &self.ipfs_url {
            config.push(("ipfs-url".to_string(), url.clone()));
        }
        config
    }
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= 3600.0 => Ok(secs),
        _ => Err(format!(
            "expected a number of seconds between 0 and 3600, got `{s}`"
        )),
    }
}

fn parse_fd(s: &str) -> Result<ww_core::native::fds::PassedFd, String> {
    ww_core::native::fds::parse(s).map_err(|e| e.to_string())
}

fn parse_grant(s: &str) -> Result<ww_core::registry::grants::Grant, String> {
    ww_core::registry::grants::parse(s).map_err(|e| e.to_string())
}

fn parse_restart(s: &str) -> Result<ww_core::registry::restart::Restart, String> {
    s.parse()
}

fn parse_target(s: &str) -> Result<ww_core::target::Target, String> {
    ww_core::target::Target::parse(s).map_err(|e| e.to_string())
}

fn parse_setting(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got `{s}`")),
    }
}
