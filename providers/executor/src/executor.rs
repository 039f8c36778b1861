//! `Executor` and `Runtime`.

use std::cell::Cell;
use std::rc::Rc;

use ww_capnp::system_capnp::{cells, code, executor, runtime};
use ww_provider_sdk::capnp;
use ww_provider_sdk::direct;

/// Live children of one executor capability, against its limit.
pub struct Children {
    live: Cell<u32>,
    max: u32,
}

impl Children {
    pub fn new(max: u32) -> Children {
        Children {
            live: Cell::new(0),
            max,
        }
    }
}

/// An executor: the node's (bound to no code; `args[0]` names the wasm in
/// the image) or one made by `Runtime.load` (bound to that code).
pub struct ExecutorImpl {
    pub cells: cells::Client,
    pub code: Option<code::Client>,
    pub children: Rc<Children>,
}

/// The calls that finish at once, for both doors: the capability's
/// methods below and the node's typed WIT door.
impl direct::Executor for ExecutorImpl {
    /// The message back, to check the path to the executor (and to time
    /// it).
    fn echo(&self, message: String) -> capnp::Result<String> {
        Ok(message)
    }
}

impl ExecutorImpl {
    async fn code_for(&self, args: capnp::text_list::Reader<'_>) -> capnp::Result<code::Client> {
        if let Some(code) = &self.code {
            return Ok(code.clone());
        }
        if args.is_empty() {
            return Err(capnp::Error::failed(
                "args[0] must name the wasm to run, e.g. /bin/echo.wasm".into(),
            ));
        }
        let path = args.get(0)?.to_str()?;
        let mut req = self.cells.open_request();
        req.get().set_path(path);
        let response = req
            .send()
            .promise
            .await
            .map_err(|e| capnp::Error::failed(format!("cannot spawn {path}: {}", e.extra)))?;
        response.get()?.get_code()
    }
}

impl executor::Server for ExecutorImpl {
    async fn echo(
        self: Rc<Self>,
        params: executor::EchoParams,
        mut results: executor::EchoResults,
    ) -> Result<(), capnp::Error> {
        let message = params.get()?.get_message()?.to_string()?;
        results
            .get()
            .set_response(direct::Executor::echo(&*self, message)?.as_str());
        Ok(())
    }

    async fn spawn(
        self: Rc<Self>,
        params: executor::SpawnParams,
        mut results: executor::SpawnResults,
    ) -> Result<(), capnp::Error> {
        let children = &self.children;
        if children.live.get() >= children.max {
            return Err(capnp::Error::overloaded(format!(
                "this executor already has {} live children, its limit; wait for one to exit \
                 (operators raise it with --config max-children=N)",
                children.max
            )));
        }
        let params = params.get()?;
        let code = self.code_for(params.get_args()?).await?;
        let mut req = code.spawn_request();
        {
            // Lists the caller left unset read as empty lists without an
            // element type; copying one would write a list the core cannot
            // read as the right type, so only non-empty lists are copied.
            let mut spec = req.get();
            let (args, env, caps) = (params.get_args()?, params.get_env()?, params.get_caps()?);
            if !args.is_empty() {
                spec.set_args(args)?;
            }
            if !env.is_empty() {
                spec.set_env(env)?;
            }
            if !caps.is_empty() {
                spec.set_caps(caps)?;
            }
            spec.set_limits(params.get_limits()?)?;
            spec.set_root(params.get_root()?);
        }
        let process = req.send().promise.await?.get()?.get_process()?;
        // Counted until it exits (or is killed: `wait` then resolves too).
        children.live.set(children.live.get() + 1);
        let children = self.children.clone();
        let exited = process.wait_request().send().promise;
        tokio::task::spawn_local(async move {
            let _ = exited.await;
            children.live.set(children.live.get().saturating_sub(1));
        });
        results.get().set_process(process);
        Ok(())
    }

    async fn runtime(
        self: Rc<Self>,
        _: executor::RuntimeParams,
        mut results: executor::RuntimeResults,
    ) -> Result<(), capnp::Error> {
        results
            .get()
            .set_runtime(capnp_rpc::new_client(RuntimeImpl {
                cells: self.cells.clone(),
                children: self.children.clone(),
            }));
        Ok(())
    }
}

/// Loads code and hands out executors bound to it (sharing the parent
/// executor's count of live children).
pub struct RuntimeImpl {
    cells: cells::Client,
    children: Rc<Children>,
}

impl runtime::Server for RuntimeImpl {
    async fn load(
        self: Rc<Self>,
        params: runtime::LoadParams,
        mut results: runtime::LoadResults,
    ) -> Result<(), capnp::Error> {
        let mut req = self.cells.load_request();
        req.get().set_wasm(params.get()?.get_wasm()?);
        let code = req.send().promise.await?.get()?.get_code()?;
        results
            .get()
            .set_executor(capnp_rpc::new_client(ExecutorImpl {
                cells: self.cells.clone(),
                code: Some(code),
                children: self.children.clone(),
            }));
        Ok(())
    }
}
