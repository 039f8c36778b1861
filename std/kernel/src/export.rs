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
    /// returns its result and what it printed.
    async fn eval_in_turn(
        &self,
        session: &Session,
        source: &str,
    ) -> (Result<Value, Error>, String) {
        let (abort, aborted) = oneshot::channel();
        self.waiting.borrow_mut().push(abort);
        let turn = match future::select(session.turn.lock(), aborted).await {
            Either::Left((turn, _)) => turn,
            Either::Right(_) => return (Err(Error::Interrupted), String::new()),
        };
        // Interrupts from now on reach the running evaluation (the dropped
        // receiver marks this one's sender as done).
        self.waiting.borrow_mut().retain(|w| !w.is_canceled());
        // Dropped with this future too, when the caller goes away half-way.
        let running = Running::set(&self.running);
        let capture = session.output.capture();
        let result = session.eval(source).await;
        let output = capture.finish();
        drop(running);
        drop(turn);
        (result, output)
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
        let (result, output) = self.eval_in_turn(&session, &source).await;
        let mut r = results.get();
        r.set_output(output.as_str());
        r.set_cwd(session.cwd.borrow().as_str());
        let mut outcome = r.init_outcome();
        match result {
            Ok(Value::Nil) => outcome.set_value("nil"),
            Ok(v) => outcome.set_value(v.to_string().as_str()),
            Err(e) if e.is_incomplete() => outcome.set_incomplete(()),
            Err(Error::Exit(code)) => outcome.set_exit(code),
            Err(e) => outcome.set_error(e.to_string().as_str()),
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
            session.glia.interrupt();
        }
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
