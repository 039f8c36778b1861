//! pid0's kernel, Wasm or native, and what pid0 is given.
//!
//! pid0 is native when `ww run` is given one executable file instead of
//! image layers (`ww run ./program`: its image is then empty), or when the
//! image's kernel is `boot/main` rather than `boot/main.wasm`.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::{NodeError, RunOptions};
use crate::shell::Frontend;
use ww_core::engine::Engine;
use ww_core::image::{Entry, Image, Layer, NATIVE_BOOT};
use ww_core::limits::Limits;
use ww_core::native::program::{self, Kind};
use ww_core::native::{Confinement, Launch, Runner, Stdio};
use ww_core::transport::GuestEnd;

/// What pid0 runs.
pub(super) enum Kernel {
    /// `boot/main.wasm`, compiled.
    Wasm(wasmtime::component::Component),
    /// A native executable.
    Native {
        /// On the host.
        program: PathBuf,
        /// pid0's `argv[0]`: the path as given, or `boot/main`.
        argv0: String,
    },
}

/// pid0's end of its vat.
pub(super) enum End {
    /// A Wasm pid0's `wetware:rpc` streams.
    Wasm(GuestEnd),
    /// A native pid0's socket, its fd 3.
    Native(OwnedFd),
}

impl Kernel {
    /// `ww run ./program`.
    pub(super) fn bare(program: &Path) -> Kernel {
        Kernel::Native {
            program: program.to_path_buf(),
            argv0: program.display().to_string(),
        }
    }

    /// The kernel of `image`, compiled when it is Wasm.
    pub(super) fn load(engine: &Engine, image: &Image) -> Result<Kernel, NodeError> {
        Ok(match image.entry()? {
            Entry::Wasm(path) => Kernel::Wasm(engine.load_component(&path)?),
            Entry::Native(program) => Kernel::Native {
                program,
                argv0: NATIVE_BOOT.to_string(),
            },
        })
    }

    /// Refuses flags that do not fit this kernel (status 2).
    pub(super) fn check(&self, options: &RunOptions) -> Result<(), NodeError> {
        let usage = |s: &str| Err(NodeError::Usage(s.to_string()));
        match self {
            Kernel::Wasm(_) if !options.fds.is_empty() => usage(
                "--fd passes descriptors to a native pid0, and this image's pid0 is \
                 boot/main.wasm (a Wasm cell has no descriptors to pass them to)",
            ),
            Kernel::Wasm(_)
                if !options.read_only.is_empty()
                    && !ww_core::registry::any_process(&options.providers).unwrap_or(false) =>
            {
                usage(
                    "--ro lets a native pid0 or a provider program read a host path, and \
                     this image's pid0 is boot/main.wasm (a Wasm cell sees only its image) \
                     and no --provider is a program",
                )
            }
            Kernel::Native { .. } if options.frontend == Some(Frontend::Mcp) => usage(
                "--mcp serves the Wasm kernel's shell; a native pid0 has ww's stdio to itself",
            ),
            _ => Ok(()),
        }
    }
}

/// The program of `ww run ./program`: the one layer is a file.
///
/// # Errors
///
/// A Wasm file given so (it needs an image).
pub(super) fn bare_program(layers: &[String]) -> Result<Option<PathBuf>, NodeError> {
    let [layer] = layers else { return Ok(None) };
    let Ok(Layer::Dir(path)) = Layer::parse(layer) else {
        return Ok(None);
    };
    if !path.is_file() {
        return Ok(None);
    }
    if let Ok(Kind::Wasm) = program::kind(&path) {
        return Err(NodeError::Usage(format!(
            "{layer} is WebAssembly: `ww run FILE` runs a native executable; run Wasm from an \
             image, e.g. `ww run DIR` with it at DIR/boot/main.wasm, or `ww run {layer}:/boot/main.wasm`"
        )));
    }
    Ok(Some(path))
}

/// pid0's environment: ww's own values of the `WW_ENV` names it has, then
/// each `--env KEY[=VALUE]` (a bare KEY copies ww's value; later wins).
///
/// # Errors
///
/// A malformed name, or a bare `--env KEY` that ww's environment lacks.
pub(super) fn env(pass: &[String], specs: &[String]) -> Result<Vec<(String, String)>, NodeError> {
    let mut env = Vec::new();
    for name in pass {
        if name.contains('=') {
            return Err(NodeError::Usage(format!(
                "WW_ENV: `{name}` is not a variable name (WW_ENV lists names, e.g. WW_ENV=HOME,LANG; \
                 set values with --env KEY=VALUE)"
            )));
        }
        if let Ok(value) = std::env::var(name) {
            env.push((name.clone(), value));
        }
    }
    for spec in specs {
        let (k, v) = match spec.split_once('=') {
            Some(("", _)) => {
                return Err(NodeError::Usage(format!(
                    "--env {spec}: the variable name is empty (use --env KEY=VALUE or --env KEY)"
                )))
            }
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => {
                let v = std::env::var(spec).map_err(|_| {
                    NodeError::Usage(format!(
                        "--env {spec}: ww's own environment has no {spec} to pass on (use --env {spec}=VALUE)"
                    ))
                })?;
                (spec.clone(), v)
            }
        };
        env.retain(|(name, _)| *name != k);
        env.push((k, v));
    }
    Ok(env)
}

/// The names in a `WW_ENV` value (comma-separated; empty entries skipped).
pub fn pass_env_names(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(String::from)
        .collect()
}

/// A native pid0: ww's stdio, its image as working directory, `--fd`s and
/// `--ro`s.
pub(super) fn native_launch(
    options: &RunOptions,
    program: PathBuf,
    argv0: String,
    env: Vec<(String, String)>,
    root: PathBuf,
    limits: Limits,
) -> Launch {
    let mut argv = vec![argv0];
    argv.extend(options.args.iter().cloned());
    Launch {
        name: "pid0".into(),
        program,
        argv,
        env,
        root: Some(root),
        read_only: options.read_only.clone(),
        read_write: Vec::new(),
        network: false,
        fds: options.fds.clone(),
        stdio: Stdio::Inherit,
        limits,
    }
}

/// The runner of native children (`--allow-native-children`).
///
/// # Errors
///
/// Without a jail and without `--no-jail` (status 2: the flags cannot
/// work together here).
pub(super) fn children_runner(no_jail: bool) -> Result<Rc<Runner>, NodeError> {
    match Confinement::for_node(no_jail) {
        Some(confinement) => Ok(Runner::new(Some(confinement))),
        None => Err(NodeError::Usage(
            "--allow-native-children: native cells run jailed, and the jail is not available in \
             this ww; add --no-jail to run them unjailed (they can then do whatever ww's user can)"
                .into(),
        )),
    }
}

/// The first SIGINT or SIGTERM ww gets, as its number (never, if ww cannot
/// listen for them).
pub(super) async fn stop_signal() -> i32 {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => libc::SIGINT,
        _ = terminate.recv() => libc::SIGTERM,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_passes_listed_names_then_flags_win() {
        std::env::set_var("WW_KERNEL_TEST_A", "from-ww");
        let pass = pass_env_names("WW_KERNEL_TEST_A,, WW_KERNEL_TEST_MISSING");
        assert_eq!(pass.len(), 2);
        let env = env(&pass, &["B=1".into()]).unwrap();
        assert_eq!(
            env,
            vec![
                ("WW_KERNEL_TEST_A".to_string(), "from-ww".to_string()),
                ("B".to_string(), "1".to_string())
            ]
        );
        let env = super::env(&pass, &["WW_KERNEL_TEST_A=flag".into()]).unwrap();
        assert_eq!(
            env,
            vec![("WW_KERNEL_TEST_A".to_string(), "flag".to_string())]
        );
        assert!(super::env(&["A=B".into()], &[]).is_err());
        assert!(super::env(&[], &["=x".into()]).is_err());
    }
}
