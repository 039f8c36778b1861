//! Commands in `PATH`: an unknown head symbol `(name args…)` runs
//! `<dir>/name.wasm` (or `<dir>/name`) of the node's image as a child cell,
//! with the session's capabilities, and shows its output.

use std::rc::Rc;

use ww_capnp::system_capnp::{byte_stream, executor};
use ww_glia::{Arity, Error, Value};

use crate::session::Session;

/// Where commands are looked for when the environment sets no `PATH`.
pub const DEFAULT_PATH: &str = "/bin";

/// Bytes asked of a child's output stream per read.
const READ_CHUNK: u32 = 64 * 1024;

/// The image path of command `name`, if some `PATH` directory has it.
pub fn find(name: &str) -> Option<String> {
    if name.contains('/') || name.is_empty() {
        return None;
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| DEFAULT_PATH.into());
    for dir in path.split(':').filter(|d| d.starts_with('/')) {
        let dir = dir.trim_end_matches('/');
        for candidate in [format!("{dir}/{name}.wasm"), format!("{dir}/{name}")] {
            if std::fs::metadata(&candidate).is_ok_and(|m| m.is_file()) {
                return Some(candidate);
            }
        }
    }
    None
}

/// Installs the `PATH` fallback on the session's interpreter.
pub fn install(session: &Rc<Session>) {
    let weak = Rc::downgrade(session);
    session.glia.set_resolver(move |_, name| {
        let path = find(name)?;
        let weak = weak.clone();
        let doc = format!("runs {path} as a child cell");
        Some(Value::native_async(
            name,
            &doc,
            Arity::at_least(0),
            move |_, args| {
                let session = weak.upgrade();
                let path = path.clone();
                Box::pin(async move {
                    let session =
                        session.ok_or_else(|| Error::Native("the shell is gone".into()))?;
                    run(&session, &path, &args).await
                })
            },
        ))
    });
}

fn failed(path: &str, e: capnp::Error) -> Error {
    Error::Native(format!("{path}: {}", e.extra))
}

/// Runs the command at `path` with `args`, copies its stdout to the
/// session's output and its stderr to the kernel's; `nil` when it exits 0.
pub async fn run(session: &Session, path: &str, args: &[Value]) -> Result<Value, Error> {
    let caps = session
        .caps()
        .ok_or_else(|| Error::Native("nothing is grafted".into()))?;
    let exec: executor::Client = caps.get("executor").map_err(|e| {
        Error::Native(format!(
            "cannot run {path}: this node grants no `executor` ({})",
            e.extra
        ))
    })?;
    let mut request = exec.spawn_request();
    {
        let mut p = request.get();
        let mut argv = p.reborrow().init_args(args.len() as u32 + 1);
        argv.set(0, path);
        for (i, a) in args.iter().enumerate() {
            let text = match a {
                Value::Str(s) => s.to_string(),
                other => ww_glia::print_str(other),
            };
            argv.set(i as u32 + 1, text.as_str());
        }
        let exports: Vec<_> = caps.iter().collect();
        let mut list = p.reborrow().init_caps(exports.len() as u32);
        for (i, e) in exports.iter().enumerate() {
            e.write(list.reborrow().get(i as u32))
                .map_err(|e| failed(path, e))?;
        }
        p.set_root("/");
    }
    let response = request.send().promise.await;
    let process = match response {
        Ok(r) => r
            .get()
            .and_then(|r| r.get_process())
            .map_err(|e| failed(path, e))?,
        Err(e) => {
            if ww_guest::stale_epoch(&e).is_some() {
                session.ctx.stale.set(true);
            }
            return Err(failed(path, e));
        }
    };
    let stream = |which: u8| {
        let process = process.clone();
        async move {
            let reply = match which {
                0 => process.stdin_request().send().promise.await?,
                1 => {
                    let r = process.stdout_request().send().promise.await?;
                    return r.get()?.get_stream();
                }
                _ => {
                    let r = process.stderr_request().send().promise.await?;
                    return r.get()?.get_stream();
                }
            };
            reply.get()?.get_stream()
        }
    };
    let stdin = stream(0).await.map_err(|e| failed(path, e))?;
    // The child reads no input from the shell: end of stream at once.
    let _ = stdin.close_request().send().promise.await;
    let stdout = stream(1).await.map_err(|e| failed(path, e))?;
    let stderr = stream(2).await.map_err(|e| failed(path, e))?;
    let out = copy(stdout, |text| session.output.write(text));
    let err = copy(stderr, |text| eprint!("{text}"));
    let (out, err) = futures::join!(out, err);
    out.and(err).map_err(|e| failed(path, e))?;
    let status = process
        .wait_request()
        .send()
        .promise
        .await
        .and_then(|r| Ok(r.get()?.get_exit_code()))
        .map_err(|e| failed(path, e))?;
    match status {
        0 => Ok(Value::Nil),
        code => Err(Error::Native(format!("{path} exited with status {code}"))),
    }
}

pub async fn copy(
    stream: byte_stream::Client,
    mut sink: impl FnMut(&str),
) -> Result<(), capnp::Error> {
    loop {
        let mut request = stream.read_request();
        request.get().set_max(READ_CHUNK);
        let reply = request.send().promise.await?;
        let data = reply.get()?.get_data()?;
        if data.is_empty() {
            return Ok(());
        }
        sink(&String::from_utf8_lossy(data));
    }
}
