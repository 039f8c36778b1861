//! `wetware:executor/executor`: child cells, forwarded to the guarded
//! `Executor`, `Runtime` and `Process` capabilities.
//!
//! `spawn` names the child's capabilities instead of passing them: each
//! executor remembers the graft it came from, and the names pick exports of
//! that graft (already guarded by its epoch), exactly what a vat caller
//! would pass as `caps`.

use std::rc::Rc;

use wasmtime::component::Resource;
use ww_provider_sdk::capnp;
use ww_provider_sdk::direct::{self, Direct};
use ww_provider_sdk::ww_capnp::system_capnp::{executor, process, runtime};
use ww_provider_sdk::Export;

use super::streams::ByteStream;
use super::wetware::executor::executor::{
    ExitStatus, Host, HostExecutor, HostProcess, HostRuntime, Limits,
};
use super::{client, local, wit, Guarded, Local, WitCtxView, WitError};
use crate::epoch::EpochGuard;

/// The guest's handle on a guarded `Executor`, and the graft whose exports
/// its `spawn` may pass on.
pub struct Executor {
    cap: Local<executor::Client>,
    graft: Local<Rc<[Export]>>,
    /// The object serving it in this process, if any, for the calls that
    /// skip Cap'n Proto.
    direct: Option<Local<Guarded<dyn direct::Executor>>>,
}

impl Executor {
    /// Holds `cap`, which came from (a call on) `graft`.
    pub(crate) fn new(cap: executor::Client, graft: Rc<[Export]>) -> Executor {
        Executor {
            cap: Local::new(cap),
            graft: Local::new(graft),
            direct: None,
        }
    }

    /// Holds `export`'s capability, granted in `graft` under `guard`.
    pub(crate) fn granted(export: &Export, guard: &EpochGuard, graft: Rc<[Export]>) -> Executor {
        let direct = match export.direct() {
            Some(Direct::Executor(server)) => Some(Guarded::new(server.clone(), guard)),
            _ => None,
        };
        Executor {
            direct,
            ..Executor::new(client(export), graft)
        }
    }
}

/// The guest's handle on a guarded `Runtime`.
pub struct Runtime {
    cap: Local<runtime::Client>,
    graft: Local<Rc<[Export]>>,
}

/// The guest's handle on a guarded `Process`.
pub struct Process(Local<process::Client>);

type Answer<T> = wasmtime::Result<Result<T, WitError>>;

impl Host for WitCtxView<'_> {}

impl HostExecutor for WitCtxView<'_> {
    async fn echo(&mut self, this: Resource<Executor>, message: String) -> Answer<String> {
        let executor = self.table.get(&this)?;
        if let Some(direct) = &executor.direct {
            return Ok(direct.admit().and_then(|x| wit(x.echo(message))));
        }
        let cap = (*executor.cap).clone();
        Ok(wit(local(async move {
            let mut request = cap.echo_request();
            request.get().set_message(message.as_str());
            let reply = request.send().promise.await?;
            Ok(reply.get()?.get_response()?.to_string()?)
        })
        .await))
    }

    async fn spawn(
        &mut self,
        this: Resource<Executor>,
        args: Vec<String>,
        env: Vec<String>,
        caps: Vec<String>,
        limits: Limits,
        root: String,
    ) -> Answer<Resource<Process>> {
        let executor = self.table.get(&this)?;
        let cap = (*executor.cap).clone();
        let graft = (*executor.graft).clone();
        let process = local(async move {
            let mut request = cap.spawn_request();
            let mut params = request.get();
            write_texts(params.reborrow().init_args(len(args.len())?), &args);
            write_texts(params.reborrow().init_env(len(env.len())?), &env);
            let mut list = params.reborrow().init_caps(len(caps.len())?);
            for (i, name) in caps.iter().enumerate() {
                let export = graft.iter().find(|e| &e.name == name).ok_or_else(|| {
                    let names: Vec<&str> = graft.iter().map(|e| e.name.as_str()).collect();
                    capnp::Error::failed(format!(
                        "spawn: no capability named {name:?} in the graft this executor came from; it has [{}]",
                        names.join(", ")
                    ))
                })?;
                export.write(list.reborrow().get(len(i)?))?;
            }
            let mut l = params.reborrow().init_limits();
            l.set_max_memory_bytes(limits.max_memory_bytes);
            l.set_cpu_millis(limits.cpu_millis);
            params.set_root(root.as_str());
            let reply = request.send().promise.await?;
            Ok::<_, capnp::Error>(Local::new(reply.get()?.get_process()?))
        })
        .await;
        Ok(match wit(process) {
            Ok(process) => Ok(self.table.push(Process(process))?),
            Err(e) => Err(e),
        })
    }

    async fn runtime(&mut self, this: Resource<Executor>) -> Answer<Resource<Runtime>> {
        let executor = self.table.get(&this)?;
        let cap = (*executor.cap).clone();
        let graft = executor.graft.clone();
        let runtime = local(async move {
            let reply = cap.runtime_request().send().promise.await?;
            Ok::<_, capnp::Error>(Local::new(reply.get()?.get_runtime()?))
        })
        .await;
        Ok(match wit(runtime) {
            Ok(cap) => Ok(self.table.push(Runtime { cap, graft })?),
            Err(e) => Err(e),
        })
    }

    async fn drop(&mut self, this: Resource<Executor>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl HostRuntime for WitCtxView<'_> {
    async fn load(&mut self, this: Resource<Runtime>, wasm: Vec<u8>) -> Answer<Resource<Executor>> {
        let runtime = self.table.get(&this)?;
        let cap = (*runtime.cap).clone();
        let graft = runtime.graft.clone();
        let executor = local(async move {
            let mut request = cap.load_request();
            request.get().set_wasm(&wasm);
            let reply = request.send().promise.await?;
            Ok::<_, capnp::Error>(Local::new(reply.get()?.get_executor()?))
        })
        .await;
        Ok(match wit(executor) {
            Ok(cap) => Ok(self.table.push(Executor::new(cap.take(), graft.take()))?),
            Err(e) => Err(e),
        })
    }

    async fn drop(&mut self, this: Resource<Runtime>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

/// Which of a child's stdio streams.
#[derive(Clone, Copy)]
enum Stdio {
    In,
    Out,
    Err,
}

impl WitCtxView<'_> {
    async fn stdio(
        &mut self,
        this: Resource<Process>,
        which: Stdio,
    ) -> Answer<Resource<ByteStream>> {
        let cap = (*self.table.get(&this)?.0).clone();
        let stream = local(async move {
            let stream = match which {
                Stdio::In => cap
                    .stdin_request()
                    .send()
                    .promise
                    .await?
                    .get()?
                    .get_stream()?,
                Stdio::Out => cap
                    .stdout_request()
                    .send()
                    .promise
                    .await?
                    .get()?
                    .get_stream()?,
                Stdio::Err => cap
                    .stderr_request()
                    .send()
                    .promise
                    .await?
                    .get()?
                    .get_stream()?,
            };
            Ok::<_, capnp::Error>(Local::new(stream))
        })
        .await;
        Ok(match wit(stream) {
            Ok(stream) => Ok(self.table.push(ByteStream::new(stream.take()))?),
            Err(e) => Err(e),
        })
    }
}

impl HostProcess for WitCtxView<'_> {
    async fn stdin(&mut self, this: Resource<Process>) -> Answer<Resource<ByteStream>> {
        self.stdio(this, Stdio::In).await
    }

    async fn stdout(&mut self, this: Resource<Process>) -> Answer<Resource<ByteStream>> {
        self.stdio(this, Stdio::Out).await
    }

    async fn stderr(&mut self, this: Resource<Process>) -> Answer<Resource<ByteStream>> {
        self.stdio(this, Stdio::Err).await
    }

    async fn wait(&mut self, this: Resource<Process>) -> Answer<ExitStatus> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let reply = cap.wait_request().send().promise.await?;
            let reply = reply.get()?;
            Ok(ExitStatus {
                code: reply.get_exit_code(),
                cpu_micros: reply.get_cpu_micros(),
            })
        })
        .await))
    }

    async fn kill(&mut self, this: Resource<Process>) -> Answer<()> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            cap.kill_request().send().promise.await?;
            Ok(())
        })
        .await))
    }

    async fn drop(&mut self, this: Resource<Process>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

fn len(n: usize) -> capnp::Result<u32> {
    u32::try_from(n)
        .map_err(|_| capnp::Error::failed(format!("{n} entries are too many for one call")))
}

fn write_texts(mut list: capnp::text_list::Builder<'_>, texts: &[String]) {
    for (i, t) in texts.iter().enumerate() {
        list.set(i as u32, t.as_str());
    }
}
