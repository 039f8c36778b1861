//! The `Shell` capability pid0 exports to its host (`shell.capnp`), so a
//! host front end (a terminal with line editing, an MCP server) evaluates
//! through the same session as the pipe.

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::oneshot;
use futures::future::{FutureExt, Shared};

use ww_capnp::shell_capnp::shell;
use ww_glia::{Error, Value};

use crate::session::Session;

/// Serves `Shell` over the session; calls made while the kernel boots wait
/// for it (so a front end's first call is also its readiness check).
///
/// Several front ends may hold the `Shell` at once (the node's terminal and
/// remote `ww shell` sessions): evaluations take turns ([`Session::turn`]),
/// so each one's captured output is its own. An interrupt stops whichever
/// is running.
pub struct ShellImpl {
    session: Rc<RefCell<Option<Rc<Session>>>>,
    booted: Shared<oneshot::Receiver<()>>,
    ready: RefCell<Option<Ready>>,
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
        ShellImpl {
            ready: RefCell::new(Some(Ready {
                session: session.clone(),
                signal,
            })),
            session,
            booted: booted.shared(),
        }
    }
}

impl ShellImpl {
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

    async fn session(&self) -> Result<Rc<Session>, capnp::Error> {
        let _ = self.booted.clone().await;
        self.session
            .borrow()
            .clone()
            .ok_or_else(|| capnp::Error::disconnected("the kernel failed to boot its shell".into()))
    }
}

impl shell::Server for ShellImpl {
    async fn eval(
        self: Rc<Self>,
        params: shell::EvalParams,
        mut results: shell::EvalResults,
    ) -> Result<(), capnp::Error> {
        let source = params.get()?.get_source()?.to_string()?;
        let session = self.session().await?;
        let _turn = session.turn.lock().await;
        session.output.start_capture();
        let result = session.eval(&source).await;
        let output = session.output.take_capture();
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
        self.session().await?.glia.interrupt();
        Ok(())
    }
}
