//! The `Shell` capability pid0 exports to its host (`shell.capnp`), so a
//! host front end (a terminal with line editing, an MCP server) evaluates
//! through the same session as the pipe.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::channel::oneshot;
use futures::future::{self, Either, FutureExt, Shared};

use ww_capnp::shell_capnp::shell;
use ww_glia::{Error, Value};

use crate::session::Session;

/// Serves `Shell` over the session; calls made while the kernel boots wait
/// for it (so a front end's first call is also its readiness check).
///
/// Several front ends may evaluate at once (the node's terminal and remote
/// `ww shell` sessions): evaluations take turns ([`Session::turn`]), so
/// each one's captured output is its own. Each front end asks for a Shell
/// of its own (`Shell.session`), so its Ctrl-C interrupts its own
/// evaluation, never another's.
pub struct ShellImpl {
    booted: Booted,
    ready: RefCell<Option<Ready>>,
    /// Whether an evaluation made through this Shell holds the turn.
    running: Cell<bool>,
    /// Set by an interrupt while it runs: the forms of a paste not yet
    /// begun are not evaluated (Glia's own interrupt ends only the form
    /// in progress).
    interrupted: Cell<bool>,
    /// Evaluations made through this Shell that wait for the turn: an
    /// interrupt ends their wait.
    waiting: RefCell<Vec<oneshot::Sender<()>>>,
}

/// The session, once booted; shared by every Shell of the kernel.
#[derive(Clone)]
struct Booted {
    session: Rc<RefCell<Option<Rc<Session>>>>,
    signal: Shared<oneshot::Receiver<()>>,
}

/// Hands the booted session to the `Shell`.
pub struct Ready {
    session: Rc<RefCell<Option<Rc<Session>>>>,
    signal: oneshot::Sender<()>,
}

impl Ready {
    /// The session is ready: waiting calls go on.
    pub fn set(self, session: Rc<Session>) {
        *self.session.borrow_mut() = Some(session);
        let _ = self.signal.send(());
    }
}

impl Default for ShellImpl {
    fn default() -> Self {
        let (signal, booted) = oneshot::channel();
        let session = Rc::new(RefCell::new(None));
        let mut shell = ShellImpl::over(Booted {
            session: session.clone(),
            signal: booted.shared(),
        });
        shell.ready = RefCell::new(Some(Ready { session, signal }));
        shell
    }
}

impl ShellImpl {
    fn over(booted: Booted) -> ShellImpl {
        ShellImpl {
            booted,
            ready: RefCell::new(None),
            running: Cell::new(false),
            interrupted: Cell::new(false),
            waiting: RefCell::new(Vec::new()),
        }
    }

    /// The handle main uses once the session is booted (once).
    ///
    /// # Panics
    ///
    /// When called twice.
    pub fn ready(&self) -> Ready {
        self.ready
            .borrow_mut()
            .take()
            .expect("ShellImpl::ready is called once")
    }

    async fn booted_session(&self) -> Result<Rc<Session>, capnp::Error> {
        let _ = self.booted.signal.clone().await;
        self.booted
            .session
            .borrow()
            .clone()
            .ok_or_else(|| capnp::Error::disconnected("the kernel failed to boot its shell".into()))
    }

    /// Evaluates `source` when its turn comes, unless interrupted first;
    /// returns each form's evaluation (see [`Evaluated`]).
    async fn eval_in_turn(&self, session: &Session, source: &str) -> Vec<Evaluated> {
        let (abort, aborted) = oneshot::channel();
        self.waiting.borrow_mut().push(abort);
        let turn = match future::select(session.turn.lock(), aborted).await {
            Either::Left((turn, _)) => turn,
            Either::Right(_) => {
                return vec![Evaluated {
                    source: source.to_string(),
                    result: Err(Error::Interrupted),
                    output: String::new(),
                }]
            }
        };
        // Interrupts from now on reach the running evaluation (the dropped
        // receiver marks this one's sender as done).
        self.waiting.borrow_mut().retain(|w| !w.is_canceled());
        // Dropped with this future too, when the caller goes away half-way.
        let running = Running::set(&self.running);
        self.interrupted.set(false);
        let mut evaluated = Vec::new();
        for form in forms(source) {
            if self.interrupted.get() {
                evaluated.push(Evaluated {
                    source: form,
                    result: Err(Error::Interrupted),
                    output: String::new(),
                });
                break;
            }
            let capture = session.output.capture();
            let result = session.eval(&form).await;
            let output = capture.finish();
            let stop = result.is_err();
            evaluated.push(Evaluated {
                source: form,
                result,
                output,
            });
            if stop {
                break;
            }
        }
        drop(running);
        drop(turn);
        evaluated
    }
}

/// One top-level form's evaluation.
struct Evaluated {
    source: String,
    result: Result<Value, Error>,
    output: String,
}

/// The top-level forms of `source`, each evaluated in turn (a REPL reading
/// a paste); the whole source as one when it holds one form, or does not
/// read (its evaluation reports why).
fn forms(source: &str) -> Vec<String> {
    match ww_glia::reader::forms(source) {
        Ok(forms) if forms.len() > 1 => forms.into_iter().map(str::to_string).collect(),
        _ => vec![source.to_string()],
    }
}

/// Writes an evaluation's result as a `Shell.Outcome`.
fn set_outcome(mut outcome: shell::outcome::Builder<'_>, result: &Result<Value, Error>) {
    match result {
        Ok(Value::Nil) => outcome.set_value("nil"),
        Ok(v) => outcome.set_value(v.to_string().as_str()),
        Err(e) if e.is_incomplete() => outcome.set_incomplete(()),
        Err(Error::Exit(code)) => outcome.set_exit(*code),
        Err(e) => outcome.set_error(e.to_string().as_str()),
    }
}

/// Marks a Shell's evaluation as running while held.
struct Running<'a>(&'a Cell<bool>);

impl<'a> Running<'a> {
    fn set(flag: &'a Cell<bool>) -> Running<'a> {
        flag.set(true);
        Running(flag)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

impl shell::Server for ShellImpl {
    async fn eval(
        self: Rc<Self>,
        params: shell::EvalParams,
        mut results: shell::EvalResults,
    ) -> Result<(), capnp::Error> {
        let source = params.get()?.get_source()?.to_string()?;
        let session = self.booted_session().await?;
        let evaluated = self.eval_in_turn(&session, &source).await;
        let mut r = results.get();
        let output: String = evaluated.iter().map(|e| e.output.as_str()).collect();
        r.set_output(output.as_str());
        r.set_cwd(session.cwd.borrow().as_str());
        if let Some(last) = evaluated.last() {
            set_outcome(r.reborrow().init_outcome(), &last.result);
        }
        if evaluated.len() > 1 {
            let len = u32::try_from(evaluated.len())
                .map_err(|_| capnp::Error::failed("too many forms".into()))?;
            let mut forms = r.init_forms(len);
            for (i, e) in (0..len).zip(&evaluated) {
                let mut form = forms.reborrow().get(i);
                form.set_source(e.source.as_str());
                form.set_output(e.output.as_str());
                set_outcome(form.init_outcome(), &e.result);
            }
        }
        Ok(())
    }

    async fn interrupt(
        self: Rc<Self>,
        _: shell::InterruptParams,
        _: shell::InterruptResults,
    ) -> Result<(), capnp::Error> {
        let session = self.booted_session().await?;
        for waiting in self.waiting.borrow_mut().drain(..) {
            let _ = waiting.send(());
        }
        if self.running.get() {
            self.interrupted.set(true);
            session.glia.interrupt();
        }
        Ok(())
    }

    async fn graft(
        self: Rc<Self>,
        _: shell::GraftParams,
        mut results: shell::GraftResults,
    ) -> Result<(), capnp::Error> {
        let session = self.booted_session().await?;
        let _turn = session.turn.lock().await;
        let epoch = session.graft().await?;
        eprintln!("ww: the epoch ended; grafted again (epoch {epoch})");
        results.get().set_epoch(epoch);
        Ok(())
    }

    async fn session(
        self: Rc<Self>,
        _: shell::SessionParams,
        mut results: shell::SessionResults,
    ) -> Result<(), capnp::Error> {
        let own: shell::Client = capnp_rpc::new_client(ShellImpl::over(self.booted.clone()));
        results.get().set_shell(own);
        Ok(())
    }
}
