//! Errors as control flow: `throw`, and `try` with its `catch` handler and
//! `finally` cleanup.
//!
//! An error passes every frame but a `try` one on its way down the stack
//! (see `Machine::unwind`); `exit` and interruption are not catchable and
//! only run the `finally` forms.

use std::rc::Rc;

use super::{fail, special, Kont, Machine, Step};
use crate::env::{Env, Frame};
use crate::error::Error;
use crate::eval::special::TryParts;
use crate::eval::{Ctx, Flow};
use crate::value::Value;

/// A `try`: below its body (`Kont::Try`), then below its `catch` handler
/// (`Kont::Catch`), so an error in the handler still runs `finally`.
pub(super) struct Try {
    parts: Rc<TryParts>,
    env: Env,
}

/// The result of a `try`, kept while `finally` runs.
pub(super) struct Finally {
    result: Result<Flow, Error>,
}

impl Machine<'_> {
    pub(super) fn eval_throw(&mut self, list: Rc<Vec<Value>>, env: Env) -> Result<Step, Error> {
        special::expect(
            "throw",
            list.len() == 2,
            "takes one value: (throw (ex-info \"message\" {}))",
        )?;
        let x = list[1].clone();
        Ok(self.then(Kont::Throw, &x, env))
    }

    pub(super) fn eval_try(&mut self, list: Rc<Vec<Value>>, env: Env) -> Result<Step, Error> {
        let parts = special::try_parts(&list)?;
        let end = parts.body_end;
        self.push(Kont::Try(Try {
            parts: Rc::new(parts),
            env: env.clone(),
        }))?;
        // No `recur` across `try`: the body is not in tail position.
        Ok(self.body(list, 1, end, env, Ctx::VALUE))
    }

    /// The body or the handler gave a value: run `finally`, then return it.
    pub(super) fn resume_try(&mut self, k: Try, v: Value) -> Step {
        self.finish(Ok(Flow::Done(v)), &k.parts, k.env)
    }

    /// The body failed: run the handler if there is one and the error is
    /// catchable, else run `finally` and fail on.
    pub(super) fn unwind_try(&mut self, k: Try, e: Error) -> Step {
        let Try { parts, env } = k;
        match &parts.catch {
            Some((name, handler)) if e.is_catchable() => {
                let handler = handler.clone();
                let catch_env = Frame::push(&env, vec![(name.clone(), e.to_value())]);
                if let Err(e) = self.push(Kont::Catch(Try { parts, env })) {
                    return fail(e);
                }
                let end = handler.list.len();
                self.body(handler.list, handler.start, end, catch_env, Ctx::VALUE)
            }
            _ => self.finish(Err(e), &parts, env),
        }
    }

    /// The handler failed: run `finally` and fail on.
    pub(super) fn unwind_catch(&mut self, k: Try, e: Error) -> Step {
        self.finish(Err(e), &k.parts, k.env)
    }

    pub(super) fn resume_finally(&mut self, k: Finally) -> Step {
        Step::Return(k.result)
    }

    /// Runs `finally` (if any), then returns `result`; an error in
    /// `finally` wins.
    fn finish(&mut self, result: Result<Flow, Error>, parts: &TryParts, env: Env) -> Step {
        let Some(cleanup) = &parts.finally else {
            return Step::Return(result);
        };
        if let Err(e) = self.push(Kont::Finally(Finally { result })) {
            return fail(e);
        }
        let end = cleanup.list.len();
        self.body(cleanup.list.clone(), cleanup.start, end, env, Ctx::VALUE)
    }
}
