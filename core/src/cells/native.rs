//! Native children: an executable of the image (an ELF binary or a `#!`
//! script) spawned through `Executor.spawn`, when the node allows it
//! (`ww run --allow-native-children`).
//!
//! A native child is given what a Wasm child is (the capabilities, env,
//! root and limits of its spawn, piped stdio served as `ByteStream`s, its
//! own membrane and RPC bounds, a memory reservation, a CPU group inside
//! its parent's) and runs through the node's [`native::Runner`], jailed.
//! Its vat is on a socket at its fd 3.

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::rc::Rc;

use tokio::net::unix::pipe;
use ww_provider_sdk::capnp;
use ww_provider_sdk::ww_capnp::system_capnp::code;

use super::{Child, Runtime, Started, Stdio3, StreamServer};
use crate::native::{self, Launch};
use crate::{caller, vat};

/// The refusal of a native executable on a node that runs none.
pub(super) fn not_allowed(path: &str) -> capnp::Error {
    capnp::Error::failed(format!(
        "{path} is a native executable, and this node runs no native children; its operator \
         allows them with `ww run --allow-native-children` (status {})",
        crate::limits::status::NOT_EXECUTABLE
    ))
}

impl Runtime {
    /// Spawns the native `program` (a file of the image) as a child.
    fn spawn_native(
        self: &Rc<Self>,
        program: PathBuf,
        params: code::SpawnParams,
        results: &mut code::SpawnResults,
    ) -> capnp::Result<()> {
        let runner = self
            .native
            .clone()
            .ok_or_else(|| not_allowed(&program.display().to_string()))?;
        let Child {
            name,
            argv,
            env,
            root,
            limits,
            reserved,
            share,
            caller: me,
            budget,
            membrane,
        } = self.child(params)?;
        let failed = |what: &str, e: std::io::Error| {
            capnp::Error::failed(format!("cannot spawn {name}: cannot {what}: {e}"))
        };
        let (host_end, cell_end) = native::rpc_pair().map_err(|e| failed("make its socket", e))?;
        let (stdin, stdin_host) = std::io::pipe().map_err(|e| failed("make its stdin", e))?;
        let (stdout_host, stdout) = std::io::pipe().map_err(|e| failed("make its stdout", e))?;
        let (stderr_host, stderr) = std::io::pipe().map_err(|e| failed("make its stderr", e))?;
        let stdio = Stdio3 {
            stdin: StreamServer::writing(
                pipe::Sender::from_owned_fd(stdin_host.into())
                    .map_err(|e| failed("make its stdin", e))?,
                "the child's stdin",
            ),
            stdout: StreamServer::reading(
                pipe::Receiver::from_owned_fd(stdout_host.into())
                    .map_err(|e| failed("make its stdout", e))?,
                "the child's stdout",
            ),
            stderr: StreamServer::reading(
                pipe::Receiver::from_owned_fd(stderr_host.into())
                    .map_err(|e| failed("make its stderr", e))?,
                "the child's stderr",
            ),
        };
        let (exported, vat) = vat::connect(host_end, membrane.client().client, budget);
        tokio::task::spawn_local(caller::on_behalf_of(me.clone(), share.charged(vat)));
        let launch = Launch {
            name: name.clone(),
            program,
            argv,
            env,
            root,
            read_only: Vec::new(),
            read_write: Vec::new(),
            network: false,
            fds: Vec::new(),
            stdio: native::Stdio::Piped {
                stdin: OwnedFd::from(stdin),
                stdout: OwnedFd::from(stdout),
                stderr: OwnedFd::from(stderr),
            },
            limits,
        };
        let cell_share = share.clone();
        let run = async move {
            runner
                .run(launch, cell_end, &cell_share)
                .await
                .map_err(|e| (e.to_string(), e.exit_code()))
        };
        let process = self.start(
            Started {
                name,
                reserved,
                share,
                caller: me,
                exported,
            },
            run,
            stdio,
        );
        results.get().set_process(process);
        Ok(())
    }
}

/// A native executable of the image, ready to spawn.
pub(super) struct NativeCodeServer {
    pub(super) runtime: Rc<Runtime>,
    pub(super) program: PathBuf,
}

impl code::Server for NativeCodeServer {
    async fn spawn(
        self: Rc<Self>,
        params: code::SpawnParams,
        mut results: code::SpawnResults,
    ) -> Result<(), capnp::Error> {
        self.runtime
            .spawn_native(self.program.clone(), params, &mut results)
    }
}
