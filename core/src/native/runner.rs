//! Running native cells: the native counterpart of
//! [`cell::Cells`](crate::cell::Cells), shared by pid0 and the node's
//! children.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use super::group::{Group, Tree};
use super::jail::{Confinement, Policy, DEFAULT_MAX_PIDS};
use super::launch::{Launch, Stdio};
use super::spawn::{self, Prepared};
use super::{env, fds, foreground, status, wait, NativeError};
use crate::cpu::Share;
use crate::limits::status as code;

/// Starts and waits for native cells, confined the node's way, and ends
/// them all when dropped (the node is ending).
pub struct Runner {
    confinement: Option<Confinement>,
    tree: Tree,
}

impl Runner {
    /// A runner confining every cell with `confinement`; `None` refuses
    /// every native cell ([`NativeError::NoJail`]). Running unjailed is
    /// said once, here, as a WARN.
    pub fn new(confinement: Option<Confinement>) -> Rc<Runner> {
        if let Some(Confinement::Unjailed) = confinement {
            tracing::warn!(
                "--no-jail: native cells run unjailed, with every file, the network and the \
                 memory of ww's own user; run only programs you trust this way"
            );
        }
        Rc::new(Runner {
            confinement,
            tree: Tree::new(),
        })
    }

    /// The process groups of the live native cells.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Runs `launch` with `rpc` (its end of its vat's socket) at fd 3, to
    /// its end, and returns its exit status (see [`status`]). Its own CPU
    /// time is charged to `share` (with the node's work on its calls,
    /// which its vat charges there). When the cell ends, what is left of
    /// its process group is killed.
    ///
    /// # Errors
    ///
    /// When the cell cannot start: no jail, a program that is missing or
    /// not executable, a jail that cannot confine it.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future kills the cell's process group (how
    /// `Process.kill` ends a native child).
    pub async fn run(
        &self,
        launch: Launch,
        rpc: OwnedFd,
        share: &Share,
    ) -> Result<i32, NativeError> {
        Ok(self.run_to_exit(launch, rpc, share, None).await?.status)
    }

    /// [`Runner::run`], telling `on_start` the main process's pid once it
    /// runs, and returning how it ended: its status, and the signal that
    /// ended it, if one did (a provider process is reported by how it
    /// ended, where a status of 137 could also be an exit code).
    ///
    /// # Errors
    ///
    /// As [`Runner::run`].
    ///
    /// # Cancel safety
    ///
    /// As [`Runner::run`].
    pub async fn run_to_exit(
        &self,
        launch: Launch,
        rpc: OwnedFd,
        share: &Share,
        on_start: Option<tokio::sync::oneshot::Sender<libc::pid_t>>,
    ) -> Result<Exit, NativeError> {
        let Launch {
            name,
            program,
            argv,
            env,
            root,
            read_only,
            read_write,
            network,
            fds,
            stdio,
            limits,
        } = launch;
        let confinement = self
            .confinement
            .as_ref()
            .ok_or_else(|| NativeError::NoJail { cell: name.clone() })?;
        let program = executable(&name, &program)?;
        let absolute = |p: &PathBuf| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        let root = root.as_ref().map(absolute);
        let scratch = tempfile::Builder::new()
            .prefix("ww-cell-")
            .tempdir()
            .map_err(|source| NativeError::Io {
                cell: name.clone(),
                what: "create its scratch directory",
                source,
            })?;
        let targets = fds::passed_targets(fds.len());
        let env = env::cell_env(&env, &fds, &targets, scratch.path());
        let policy = Policy {
            cell: name.clone(),
            program: program.clone(),
            read_only: root
                .iter()
                .cloned()
                .chain(read_only.iter().map(absolute))
                .collect(),
            scratch: scratch.path().to_path_buf(),
            read_write: read_write.iter().map(absolute).collect(),
            network,
            rpc_fd: fds::RPC_FD,
            passed_fds: targets,
            memory: limits.memory,
            cpu: limits.cpu,
            max_pids: DEFAULT_MAX_PIDS,
        };
        let lend = matches!(stdio, Stdio::Inherit) && foreground::ours();
        let since = Instant::now();
        let prepared = Prepared {
            program: &program,
            argv: &argv,
            env: &env,
            cwd: root.as_deref().unwrap_or(scratch.path()),
            stdio,
            fds: &fds,
            foreground: lend,
        };
        let started = spawn::spawn(prepared, rpc, confinement, &policy)?;
        let pid = started.pid;
        // Dropped in reverse order: the terminal comes back, the group is
        // killed (if still alive), then the scratch directory goes.
        let _scratch = scratch;
        let mut group = Group::new(started, &self.tree);
        let _terminal = lend.then(foreground::Lent::new);
        let io = |what| {
            let cell = name.clone();
            move |source| NativeError::Io { cell, what, source }
        };
        let pidfd = wait::pidfd(pid).map_err(io("wait for it"))?;
        tracing::debug!(cell = %name, pid, "native cell started in {:.1?}", since.elapsed());
        if let Some(on_start) = on_start {
            let _ = on_start.send(pid);
        }
        let exited = wait::exit(&mut group, &pidfd, limits.cpu, share)
            .await
            .map_err(io("wait for it"))?;
        share.charge(exited.cpu);
        let cpu = share.used();
        let signal = libc::WIFSIGNALED(exited.word).then(|| libc::WTERMSIG(exited.word));
        let status = if exited.out_of_cpu {
            tracing::warn!(
                "cell {name} stopped (status {}) after {cpu:.1?} of CPU: it used up its CPU budget \
                 of {:?}",
                code::CPU_LIMIT,
                limits.cpu.unwrap_or_default()
            );
            code::CPU_LIMIT
        } else {
            status::from_wait(exited.word)
        };
        tracing::debug!(
            cell = %name,
            "native cell exited with status {status} after {:.1?} ({cpu:.1?} of CPU)",
            since.elapsed()
        );
        Ok(Exit { status, signal })
    }
}

/// How a native process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    /// Its status in the Cell API's numbering (see [`status`]).
    pub status: i32,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.tree.kill_all();
    }
}

/// `program`, absolute, if it exists and may be executed.
fn executable(cell: &str, program: &Path) -> Result<PathBuf, NativeError> {
    let not = |reason: String| NativeError::NotExecutable {
        cell: cell.to_string(),
        program: program.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(program).map_err(|source| NativeError::Spawn {
        cell: cell.to_string(),
        program: program.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        return Err(not("it is a directory".into()));
    }
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(not(
            "it has no execute permission (chmod +x it to run it as a native cell)".into(),
        ));
    }
    std::fs::canonicalize(program).map_err(|source| NativeError::Spawn {
        cell: cell.to_string(),
        program: program.to_path_buf(),
        source,
    })
}
