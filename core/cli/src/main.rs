//! The `ww` binary: parse, run, map errors to an exit status.

mod cli;
mod gates;

use std::io::IsTerminal;

use clap::Parser;
use cli::{Cli, Command};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use ww::node::{self, RunOptions};

fn main() {
    // Error values capture no backtraces: their Debug text reaches guests
    // (a failed WASI stream's `to-debug-string` formats the host's error),
    // and the host's stack is none of a guest's business. Set before any
    // thread starts, since the standard library reads it once; panics still
    // print theirs under RUST_BACKTRACE.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    let cli = Cli::parse();
    // Logs go to stderr; stdout belongs to the cell. A remote shell's own
    // host has nothing to tell a person at the prompt (its DHT has no
    // peers to bootstrap from, by design).
    let default = match cli.command {
        Command::Shell(_) => "warn,libp2p_kad=error",
        _ => "warn,ww=info,ww_core=info",
    };
    let filter = log_filter(default);
    // Colours only for a person at a terminal (and not with NO_COLOR): logs
    // piped into a file or another program stay plain text.
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(colour),
        )
        .with(filter)
        .init();
    if let Err(missing) = gates::check(&cli.command) {
        eprintln!("error: {missing}");
        std::process::exit(ww::features::EXIT_MISSING);
    }
    let code = match cli.command {
        Command::Run(args) => run(args),
        Command::Providers {
            paths,
            no_jail,
            read_only,
        } => match ww::inspect::describe(&paths, no_jail, &read_only) {
            Ok(text) => {
                print!("{text}");
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                e.exit_code()
            }
        },
        Command::Keygen { output, force } => {
            let key = ww_core::key::generate();
            report(ww_core::key::write(&output, &key, force).map(|()| {
                println!("{}", hex::encode(key.verifying_key().as_bytes()));
                eprintln!("wrote {} (public key above)", output.display());
            }))
        }
        Command::Push {
            dir,
            data_dir,
            cid_version,
            ipfs_url,
            publish,
        } => match push(&dir, data_dir, cid_version, ipfs_url.as_deref()) {
            Some(cid) => publish_head(&publish, &cid),
            None => 1,
        },
        Command::Check {
            data_dir,
            repair,
            gc,
        } => check(data_dir, repair, gc),
        Command::Init {
            name,
            provider,
            process,
            sdk,
        } => init(&name, provider, process, sdk),
        Command::Shell(args) => shell(args),
        Command::Compile {
            layers,
            cache_dir,
            target,
        } => compile(&layers, cache_dir, &target.unwrap_or_default()),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "ww", &mut std::io::stdout());
            0
        }
        Command::Man { command } => man(command.as_deref()),
        Command::CompileWorker { timeout_ms, target } => ww_core::compile::worker_main(
            std::time::Duration::from_millis(timeout_ms),
            &target.unwrap_or_default(),
        ),
        Command::Build { dir, bin } => {
            report(ww::guest_build::build(&dir, bin.as_deref()).map(|path| {
                eprintln!("wrote {}", path.display());
            }))
        }
    };
    std::process::exit(code);
}

/// Which logs are shown: `RUST_LOG`'s directives (`LEVEL` and
/// `TARGET=LEVEL`, comma-separated), else `default`. A value ww cannot read
/// is said once and the default used, so a typo never hides every log.
fn log_filter(default: &str) -> Targets {
    let fallback = || default.parse().unwrap_or_default();
    match std::env::var("RUST_LOG") {
        Ok(value) if !value.trim().is_empty() => value.parse().unwrap_or_else(|e| {
            eprintln!(
                "warning: RUST_LOG={value:?} is not a list of LEVEL or TARGET=LEVEL \
                 (e.g. `warn,ww_core=debug`): {e}; using `{default}`"
            );
            fallback()
        }),
        _ => fallback(),
    }
}

fn run(args: cli::RunArgs) -> i32 {
    // Before ww opens anything: a descriptor number not open now could be
    // one of ww's own later.
    if let Err(e) = ww_core::native::fds::check(&args.fds) {
        eprintln!("error: {e}");
        return 2;
    }
    if let Some(missing) = args.read_only.iter().find(|p| !p.exists()) {
        eprintln!(
            "error: --ro {}: no such file or directory on this host",
            missing.display()
        );
        return 2;
    }
    if let Some(Err(e)) = args.compile.target.as_ref().map(|t| t.check_runs_here()) {
        eprintln!("error: --target: {e}");
        return 2;
    }
    let config = args.config.clone();
    let flag_config = args.network_config();
    let cache_dir = match (args.no_cache, args.cache_dir) {
        (true, _) => None,
        (false, Some(dir)) => Some(dir),
        (false, None) => ww_core::cache::default_dir(),
    };
    let options = RunOptions {
        layers: args.layers,
        args: args.args,
        providers: args.providers,
        provider_grants: args.provider_grants,
        provider_restart: args.provider_restart,
        identity: args.identity,
        env: args.env,
        pass_env: std::env::var("WW_ENV")
            .map(|names| node::pass_env_names(&names))
            .unwrap_or_default(),
        fds: args.fds,
        read_only: args.read_only,
        no_jail: args.no_jail,
        allow_native_children: args.allow_native_children,
        config,
        flag_config,
        cache_dir,
        revoke_on_hup: args.revoke_on_hup,
        max_cells: args.max_cells,
        rpc: ww_core::rpc_budget::RpcLimits {
            calls: args.max_calls_in_flight,
            call_bytes: args.max_call_bytes,
            queued_bytes: args.max_queued_bytes,
            caps: args.max_caps,
        },
        max_memory: args.max_memory.map(mib),
        max_memory_pid0: args.max_memory_pid0.map(mib),
        max_memory_total: args.max_memory_total.map(mib),
        frontend: frontend(args.mcp),
        stem: args.stem.options(),
        allow_keys: args.allow_keys,
        target: args.compile.target.clone().unwrap_or_default(),
        compile: args.compile.options(),
    };
    let Some(runtime) = runtime() else {
        return 1;
    };
    let local = tokio::task::LocalSet::new();
    match local.block_on(&runtime, node::run(options)) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// `ww init NAME [--provider [--process]] [--sdk DIR]`.
fn init(
    name: &std::path::Path,
    provider: bool,
    process: bool,
    sdk: Option<std::path::PathBuf>,
) -> i32 {
    use ww::scaffold::{self, Kind};
    let kind = match provider {
        true => Kind::Provider { process },
        false => Kind::Guest,
    };
    let sdk = sdk.or_else(|| std::env::var_os(kind.sdk_env()).map(std::path::PathBuf::from));
    match scaffold::init(name, kind, sdk.as_deref()) {
        Ok(()) => {
            let n = name.display();
            match kind {
                Kind::Guest => {
                    eprintln!("created {n}: build it with `ww build {n}`, run it with `ww run {n}`")
                }
                Kind::Provider { .. } => eprintln!(
                    "created {n}: `cargo build` in it makes its provider library (target/debug), \
                     `cargo test` starts it and calls it; docs/providers.md of ww is the guide"
                ),
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// `ww compile LAYER...`: the image's wasm into the compile cache.
fn compile(
    layers: &[String],
    cache_dir: Option<std::path::PathBuf>,
    target: &ww_core::target::Target,
) -> i32 {
    use ww::precompile;
    let dir = match precompile::cache_dir(cache_dir) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    match precompile::compile_image(layers, &dir, target) {
        Ok(compiled) => {
            for path in &compiled {
                eprintln!("compiled {}", path.display());
            }
            let (on, flag) = match target.wasmtime_target() {
                Some(triple) if target.is_pulley() => {
                    (String::new(), format!(" --target {triple}"))
                }
                Some(triple) => (format!(" on {triple}"), String::new()),
                None => (String::new(), String::new()),
            };
            eprintln!(
                "{} file(s) compiled into {}: a runtime-only ww{on} runs them with `ww run{flag} --cache-dir {}`",
                compiled.len(),
                dir.display(),
                dir.display()
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                precompile::PrecompileError::Wasm(w) => w.exit_code(),
                precompile::PrecompileError::Image(_) => 2,
                _ => 1,
            }
        }
    }
}

/// `ww man [COMMAND]`: the manual page of ww, or of one of its commands
/// (named `ww-COMMAND`, as the top page's list refers to it).
fn man(command: Option<&str>) -> i32 {
    let mut top = <Cli as clap::CommandFactory>::command();
    top.build();
    let page = match command {
        None => top,
        Some(name) => match top.find_subcommand(name) {
            Some(sub) if !sub.is_hide_set() => sub.clone(),
            _ => {
                eprintln!("error: `{name}` is not a ww command; `ww --help` lists them");
                return 2;
            }
        },
    };
    match clap_mangen::Man::new(page).render(&mut std::io::stdout()) {
        Ok(()) => 0,
        // `ww man | head`: the reader had enough.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: cannot write the manual page: {e}");
            1
        }
    }
}

/// MiB as bytes (saturating: a huge flag is refused later as too large).
fn mib(mib: usize) -> usize {
    mib.saturating_mul(1 << 20)
}

/// `ww shell MULTIADDR`.
#[cfg(feature = "shell")]
fn shell(args: cli::ShellArgs) -> i32 {
    let options = ww::shell::remote::RemoteOptions {
        addr: args.addr,
        identity: args.identity,
        timeout: std::time::Duration::from_secs_f64(args.timeout),
        mcp: args.mcp,
    };
    let Some(runtime) = runtime() else {
        return 1;
    };
    let local = tokio::task::LocalSet::new();
    match local.block_on(&runtime, ww::shell::remote::run(options)) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// `ww shell` is refused before it runs when ww has no shell feature.
#[cfg(not(feature = "shell"))]
fn shell(_: cli::ShellArgs) -> i32 {
    unreachable!("`ww shell` is checked first")
}

/// The node's one-thread runtime (capability servers are single-threaded).
fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            None
        }
    }
}

#[cfg(feature = "ipfs")]
fn push(
    dir: &std::path::Path,
    data_dir: Option<std::path::PathBuf>,
    cid_version: u8,
    ipfs_url: Option<&str>,
) -> Option<String> {
    match ww::push::push(dir, data_dir, cid_version, ipfs_url) {
        Ok(cid) => {
            println!("{cid}");
            Some(cid)
        }
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

#[cfg(not(feature = "ipfs"))]
fn push(
    _: &std::path::Path,
    _: Option<std::path::PathBuf>,
    _: u8,
    _: Option<&str>,
) -> Option<String> {
    unreachable!("`ww push` is refused before it runs when ww has no ipfs feature")
}

/// `ww check`: the store's report on stdout; 0 clean, 1 damaged, 2 failed.
#[cfg(feature = "ipfs")]
fn check(data_dir: Option<std::path::PathBuf>, repair: bool, gc: bool) -> i32 {
    let Some(dir) = data_dir.or_else(ww_ipfs::default_data_dir) else {
        eprintln!("error: no --data-dir given and HOME is not set; pass --data-dir DIR");
        return 2;
    };
    match ww_ipfs::check(&dir, ww_ipfs::CheckOptions { repair, gc }) {
        Ok(report) => {
            println!("{report}");
            i32::from(!report.is_clean() && !report.repaired)
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

#[cfg(not(feature = "ipfs"))]
fn check(_: Option<std::path::PathBuf>, _: bool, _: bool) -> i32 {
    unreachable!("`ww check` is refused before it runs when ww has no ipfs feature")
}

/// `ww push --stem`: setHead with the pushed CID.
#[cfg(feature = "stem")]
fn publish_head(publish: &cli::PublishArgs, cid: &str) -> i32 {
    let (Some(atom), Some(key)) = (&publish.stem, &publish.private_key_file) else {
        return 0;
    };
    report(
        ww::stem::publish(&publish.rpc_url, atom, key, cid).map(|pushed| {
            eprintln!(
                "setHead({cid}) on {atom}: block {} (transaction {})",
                pushed.block, pushed.tx
            );
        }),
    )
}

/// `ww push --stem` is refused before it runs when ww has no stem feature.
#[cfg(not(feature = "stem"))]
fn publish_head(publish: &cli::PublishArgs, _: &str) -> i32 {
    assert!(publish.stem.is_none(), "`ww push --stem` is checked first");
    0
}

/// `--mcp`, or the terminal front end when ww runs on a terminal.
fn frontend(mcp: bool) -> Option<ww::shell::Frontend> {
    use std::io::IsTerminal;
    if mcp {
        Some(ww::shell::Frontend::Mcp)
    } else if cfg!(feature = "shell")
        && std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal()
    {
        Some(ww::shell::Frontend::Terminal)
    } else {
        None
    }
}

fn report<E: std::fmt::Display>(result: Result<(), E>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
