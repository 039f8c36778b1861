//! One shell session: the Glia interpreter with the node's capabilities
//! bound by name, grafted again when their epoch ends.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use ww_capnp::membrane_capnp::membrane;
use ww_glia::{Error, Interpreter, Value};
use ww_guest::Caps;

use crate::dynamic::{Ctx, DynCap};
use crate::schemas::Schemas;

/// Where `println` goes: stdout, or a buffer while a host front end's
/// `Shell.eval` runs.
#[derive(Clone, Default)]
pub struct Output {
    capture: Rc<RefCell<Option<String>>>,
}

impl Output {
    /// Writes `text` to the capture buffer, or to stdout.
    pub fn write(&self, text: &str) {
        match self.capture.borrow_mut().as_mut() {
            Some(buf) => buf.push_str(text),
            None => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
        }
    }

    /// Captures what is written until the returned guard is finished or
    /// dropped: an evaluation cancelled half-way (its caller went away)
    /// must not leave the pipe shell's output captured for no one.
    pub fn capture(&self) -> Capture {
        *self.capture.borrow_mut() = Some(String::new());
        Capture {
            capture: self.capture.clone(),
        }
    }
}

/// An [`Output`] capture in progress.
pub struct Capture {
    capture: Rc<RefCell<Option<String>>>,
}

impl Capture {
    /// Stops capturing and returns what was written.
    pub fn finish(self) -> String {
        self.capture.borrow_mut().take().unwrap_or_default()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.capture.borrow_mut().take();
    }
}

/// The state a session's built-ins share.
pub struct Session {
    /// The interpreter.
    pub glia: Interpreter,
    /// The membrane, to graft again.
    pub membrane: membrane::Client,
    /// Schemas and the stale flag.
    pub ctx: Ctx,
    /// The current graft.
    pub caps: RefCell<Option<Rc<Caps>>>,
    /// The working directory `cd` changes.
    pub cwd: RefCell<String>,
    /// Where output goes.
    pub output: Output,
    /// Capabilities each service in `svc/` is granted by `(grant …)`.
    pub grants: RefCell<Vec<(String, Vec<String>)>>,
    /// Held for one evaluation and the printing of its result: the stdin
    /// shell and every holder of the exported `Shell` (the node's terminal,
    /// remote sessions) take turns, so no evaluation's output lands in
    /// another's.
    pub turn: futures::lock::Mutex<()>,
}

impl Session {
    /// A session over `membrane`, nothing grafted yet.
    pub fn new(membrane: membrane::Client) -> Rc<Session> {
        let glia = Interpreter::new();
        let output = Output::default();
        let sink = output.clone();
        glia.set_output(move |text| sink.write(text));
        Rc::new(Session {
            glia,
            membrane,
            ctx: Ctx {
                schemas: Rc::new(Schemas::new()),
                stale: Rc::new(Cell::new(false)),
                down: Rc::new(Cell::new(false)),
            },
            caps: RefCell::new(None),
            cwd: RefCell::new("/".into()),
            output,
            turn: futures::lock::Mutex::new(()),
            grants: RefCell::new(Vec::new()),
        })
    }

    /// Grafts and binds every capability under its name (replacing what an
    /// earlier graft bound).
    ///
    /// # Errors
    ///
    /// When the membrane cannot be reached.
    pub async fn graft(&self) -> Result<u64, capnp::Error> {
        let caps = ww_guest::graft(&self.membrane).await?;
        if let Some(old) = self.caps.borrow().as_ref() {
            for name in old.names() {
                self.glia.undefine(name);
            }
        }
        for export in &caps {
            self.ctx.schemas.learn(export.schema());
            let node = self.ctx.schemas.node(export.schema().id())?;
            let cap = DynCap::new(
                self.ctx.clone(),
                export.name(),
                export.client().clone(),
                node,
            );
            self.glia.define(export.name(), Value::cap(cap));
        }
        let epoch = caps.epoch();
        *self.caps.borrow_mut() = Some(Rc::new(caps));
        self.ctx.stale.set(false);
        self.ctx.down.set(false);
        Ok(epoch)
    }

    /// The current graft.
    pub fn caps(&self) -> Option<Rc<Caps>> {
        self.caps.borrow().clone()
    }

    /// Evaluates `src`; when a call failed because the epoch ended, grafts
    /// again so the next command works (the failed one is reported).
    ///
    /// After a call failed because its provider process was down, the next
    /// command grafts first: by then the node has likely restarted it, and
    /// the graft hands out its new capabilities (if not, that command
    /// fails the same way and the one after it grafts again).
    pub async fn eval(&self, src: &str) -> Result<Value, Error> {
        if self.ctx.down.get() {
            match self.graft().await {
                Ok(_) => eprintln!("ww: a provider was down; grafted again"),
                Err(e) => eprintln!("ww: a provider was down and grafting again failed: {e}"),
            }
        }
        let result = self.glia.eval_str(src).await;
        if self.ctx.stale.get() {
            match self.graft().await {
                Ok(epoch) => eprintln!("ww: the epoch ended; grafted again (epoch {epoch})"),
                Err(e) => eprintln!("ww: the epoch ended and grafting again failed: {e}"),
            }
        }
        result
    }

    /// `path` made absolute against the working directory, `.` and `..`
    /// resolved.
    pub fn absolute(&self, path: &str) -> String {
        let mut parts: Vec<String> = if path.starts_with('/') {
            Vec::new()
        } else {
            self.cwd
                .borrow()
                .split('/')
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect()
        };
        for p in path.split('/') {
            match p {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                p => parts.push(p.to_string()),
            }
        }
        format!("/{}", parts.join("/"))
    }
}
