//! `Process`: a running child cell, seen from its parent.

use std::rc::Rc;

use tokio::sync::watch;
use tokio::task::AbortHandle;
use ww_provider_sdk::capnp;
use ww_provider_sdk::ww_capnp::system_capnp::{byte_stream, process};

use crate::cpu::Share;
use crate::limits::status;

/// The parent's handle on one child.
pub struct ProcessServer {
    pub(crate) stdin: byte_stream::Client,
    pub(crate) stdout: byte_stream::Client,
    pub(crate) stderr: byte_stream::Client,
    pub(crate) exit: watch::Receiver<Option<i32>>,
    pub(crate) finish: Rc<watch::Sender<Option<i32>>>,
    pub(crate) task: AbortHandle,
    pub(crate) exported: capnp::capability::Client,
    pub(crate) share: Share,
}

impl process::Server for ProcessServer {
    async fn stdin(
        self: Rc<Self>,
        _: process::StdinParams,
        mut results: process::StdinResults,
    ) -> Result<(), capnp::Error> {
        results.get().set_stream(self.stdin.clone());
        Ok(())
    }

    async fn stdout(
        self: Rc<Self>,
        _: process::StdoutParams,
        mut results: process::StdoutResults,
    ) -> Result<(), capnp::Error> {
        results.get().set_stream(self.stdout.clone());
        Ok(())
    }

    async fn stderr(
        self: Rc<Self>,
        _: process::StderrParams,
        mut results: process::StderrResults,
    ) -> Result<(), capnp::Error> {
        results.get().set_stream(self.stderr.clone());
        Ok(())
    }

    async fn wait(
        self: Rc<Self>,
        _: process::WaitParams,
        mut results: process::WaitResults,
    ) -> Result<(), capnp::Error> {
        let mut exit = self.exit.clone();
        let code = match exit.wait_for(Option::is_some).await {
            Ok(code) => code.unwrap_or(status::FAILURE),
            Err(_) => status::FAILURE,
        };
        let mut results = results.get();
        results.set_exit_code(code);
        results.set_cpu_micros(self.share.used().as_micros() as u64);
        Ok(())
    }

    async fn kill(
        self: Rc<Self>,
        _: process::KillParams,
        _: process::KillResults,
    ) -> Result<(), capnp::Error> {
        // First writer wins: a child that already exited keeps its status.
        self.finish.send_if_modified(|s| {
            if s.is_none() {
                *s = Some(status::KILLED);
                true
            } else {
                false
            }
        });
        self.task.abort();
        Ok(())
    }

    async fn bootstrap(
        self: Rc<Self>,
        _: process::BootstrapParams,
        mut results: process::BootstrapResults,
    ) -> Result<(), capnp::Error> {
        results
            .get()
            .init_cap()
            .set_as_capability(self.exported.hook.add_ref());
        Ok(())
    }
}
