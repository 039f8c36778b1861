//! The evaluation machine: evaluates with an explicit stack of
//! continuation frames on the heap instead of recursing on the host stack.
//!
//! Why: a cell's stack is small (Wasmtime gives wasm 512 KiB by default)
//! and an async recursive evaluator spends a few hundred bytes of it per
//! level, so deep Glia recursion would trap the whole kernel. Here the
//! host stack stays flat however deep the Glia program goes; depth costs
//! heap frames, capped by [`Interpreter::set_depth_limit`].
//!
//! The machine alternates two steps: *eval* a form (an atom at once; a
//! compound form pushes a frame saying what to do with its parts' values
//! and evaluates the first part), and *return* a result to the frame on
//! top. A form in tail position is evaluated after its frame is popped,
//! so `recur` reaches its `loop` or `fn` directly, and a call in tail
//! position of a function replaces that function's frame: tail calls run
//! in constant space too.
//!
//! The core functions that call functions (`map`, `filter`, `reduce`, …)
//! are run by the machine too. The only host recursion left is an
//! embedder's async native function that calls back into Glia through
//! [`Interpreter::apply`]: each such nesting starts a machine of its own,
//! and is counted against [`MAX_NESTED_RUNS`].
//!
//! # Where each form lives
//!
//! Each family of forms has a file holding its continuation frames and
//! the `impl Machine` block that pushes them (when the form is met) and
//! pops them (when a value comes back), side by side:
//!
//! - [`control`]: `do`, `if`, `and`, `or`, `when`, `when-not`, `cond`;
//! - [`binding`]: `def`, `defn`, `let`, `loop`;
//! - [`calls`]: calls of functions, natives and capabilities; `fn`, `recur`;
//! - [`errors`]: `throw`, `try` with `catch` and `finally`;
//! - [`higher_order`]: the core functions that call functions (`map`, …);
//! - [`literals`]: `quote`, and vector, map and set literals.
//!
//! This file holds the loop, the stack and the dispatch from a form to its
//! push and from a frame to its pop.

mod binding;
mod calls;
mod control;
mod errors;
mod higher_order;
mod literals;

use std::rc::Rc;

use super::special::{self, Form};
use super::{Ctx, Flow, Interpreter};
use crate::env::Env;
use crate::error::Error;
use crate::value::Value;

pub(super) use calls::{call_native, missing_method};

/// How many machines may nest through embedder native functions that call
/// back into Glia with [`Interpreter::apply`]. Each nesting costs host
/// stack.
pub const MAX_NESTED_RUNS: usize = 100;

/// How many steps the machine takes between yields to the executor.
pub const YIELD_EVERY: usize = 4096;

/// Returns `Pending` once (waking itself at once): a turn for the other
/// futures the executor drives.
struct YieldNow(bool);

impl std::future::Future for YieldNow {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// What the machine does next.
pub(super) enum Step {
    /// Evaluate a form in an environment, in a position.
    Eval(Value, Env, Ctx),
    /// Give a result to the frame on top of the stack.
    Return(Result<Flow, Error>),
    /// Call a function with evaluated arguments.
    Apply(Value, Vec<Value>),
}

fn done(v: Value) -> Step {
    Step::Return(Ok(Flow::Done(v)))
}

fn fail(e: Error) -> Step {
    Step::Return(Err(e))
}

/// A continuation frame: what to do with the value of the part of a form
/// being evaluated. Each frame is defined, pushed and popped in its
/// family's file.
enum Kont {
    Body(control::Body),
    If(control::If),
    AndOr(control::AndOr),
    When(control::When),
    Cond(control::Cond),
    Def(binding::Def),
    Let(binding::Let),
    LoopInit(binding::LoopInit),
    Loop(binding::Loop),
    Args(calls::Args),
    Fn(calls::FnFrame),
    Throw,
    Try(errors::Try),
    Catch(errors::Try),
    Finally(errors::Finally),
    Each(higher_order::Each),
    Vector(literals::VectorLiteral),
    Map(literals::MapLiteral),
    Set(literals::SetLiteral),
}

/// One machine: its stack, and the interpreter whose depth it counts.
struct Machine<'a> {
    interp: &'a Interpreter,
    stack: Vec<Kont>,
}

impl Drop for Machine<'_> {
    fn drop(&mut self) {
        // An evaluation that failed or was dropped midway gives its depth
        // back.
        let depth = &self.interp.inner.depth;
        depth.set(depth.get() - self.stack.len());
    }
}

/// Runs `step` to completion.
pub(super) async fn run(interp: &Interpreter, step: Step) -> Result<Value, Error> {
    let _nesting = interp.enter_run()?;
    let mut m = Machine {
        interp,
        stack: Vec::new(),
    };
    let mut step = step;
    let mut steps = 0usize;
    loop {
        steps += 1;
        if steps.is_multiple_of(YIELD_EVERY) {
            // Let whatever runs beside the evaluation (a Ctrl-C watcher,
            // the RPC system) have a turn, then see if it interrupted us.
            YieldNow(false).await;
            if interp.inner.interrupted.get() {
                return Err(Error::Interrupted);
            }
        }
        step = match step {
            Step::Eval(form, env, ctx) => m.eval(form, env, ctx),
            Step::Apply(f, args) => m.apply(f, args).await,
            Step::Return(result) => match m.pop() {
                Some(k) => m.resume(k, result),
                None => {
                    return match result? {
                        Flow::Done(v) => Ok(v),
                        Flow::Recur(_) => Err(special::recur_misplaced()),
                    }
                }
            },
        };
    }
}

/// The value of a form that needs no frame (a symbol, a literal), or
/// `None` for one that does.
fn atom(interp: &Interpreter, form: &Value, env: &Env) -> Option<Result<Value, Error>> {
    match form {
        Value::Symbol(name) => Some(interp.resolve(name, env)),
        Value::List(items) if !items.is_empty() => None,
        Value::Vector(items) if !items.is_empty() => None,
        Value::Map(m) if !m.is_empty() => None,
        Value::Set(s) if !s.is_empty() => None,
        other => Some(Ok(other.clone())),
    }
}

impl Machine<'_> {
    fn push(&mut self, k: Kont) -> Result<(), Error> {
        let depth = &self.interp.inner.depth;
        let limit = self.interp.inner.depth_limit.get();
        if depth.get() >= limit {
            return Err(Error::Depth(depth.get()));
        }
        depth.set(depth.get() + 1);
        self.stack.push(k);
        Ok(())
    }

    fn pop(&mut self) -> Option<Kont> {
        let k = self.stack.pop()?;
        let depth = &self.interp.inner.depth;
        depth.set(depth.get() - 1);
        Some(k)
    }

    /// Pushes `k`, then evaluates `form` where `recur` may not appear.
    fn then(&mut self, k: Kont, form: &Value, env: Env) -> Step {
        match self.push(k) {
            Ok(()) => Step::Eval(form.clone(), env, Ctx::VALUE),
            Err(e) => fail(e),
        }
    }

    fn eval(&mut self, form: Value, env: Env, ctx: Ctx) -> Step {
        match &form {
            Value::List(items) if !items.is_empty() => self.eval_list(items.clone(), env, ctx),
            Value::Vector(items) if !items.is_empty() => self.eval_vector(items.clone(), env),
            Value::Map(m) if !m.is_empty() => self.eval_map(m, env),
            Value::Set(s) if !s.is_empty() => self.eval_set(s, env),
            other => Step::Return(
                atom(self.interp, other, &env)
                    .expect("an atom")
                    .map(Flow::Done),
            ),
        }
    }

    /// Starts the special form `form`: each form's push side, in its
    /// family's file.
    fn special(
        &mut self,
        form: Form,
        list: Rc<Vec<Value>>,
        env: Env,
        ctx: Ctx,
    ) -> Result<Step, Error> {
        match form {
            Form::Do => Ok(self.eval_do(list, env, ctx)),
            Form::If => self.eval_if(list, env, ctx),
            Form::And | Form::Or => Ok(self.eval_and_or(list, env, ctx, form == Form::And)),
            Form::When | Form::WhenNot => self.eval_when(list, env, ctx, form == Form::When),
            Form::Cond => self.eval_cond(list, env, ctx),
            Form::Def => self.eval_def(list, env),
            Form::Defn => self.eval_defn(&list, &env),
            Form::Let => self.eval_let(list, env, ctx),
            Form::Loop => self.eval_loop(list, env),
            Form::Fn => Ok(done(special::lambda(&list, &env)?)),
            Form::Recur => self.eval_recur(list, env, ctx),
            Form::Throw => self.eval_throw(list, env),
            Form::Try => self.eval_try(list, env),
            Form::Quote => self.eval_quote(&list),
        }
    }

    /// Gives `result` to frame `k`: each frame's pop side, in its family's
    /// file. `recur` and errors go to the frames that stop them.
    fn resume(&mut self, k: Kont, result: Result<Flow, Error>) -> Step {
        let v = match result {
            Ok(Flow::Done(v)) => v,
            Ok(Flow::Recur(vals)) => return self.recur(k, vals),
            Err(e) => return self.unwind(k, e),
        };
        match k {
            Kont::Body(k) => self.resume_body(k),
            Kont::If(k) => self.resume_if(k, v),
            Kont::AndOr(k) => self.resume_and_or(k, v),
            Kont::When(k) => self.resume_when(k, v),
            Kont::Cond(k) => self.resume_cond(k, v),
            Kont::Def(k) => self.resume_def(k, v),
            Kont::Let(k) => self.resume_let(k, v),
            Kont::LoopInit(k) => self.resume_loop_init(k, v),
            // A loop or function body's value passes through.
            Kont::Loop(_) | Kont::Fn(_) => done(v),
            Kont::Args(k) => self.resume_args(k, v),
            Kont::Throw => fail(Error::Thrown(v)),
            Kont::Try(k) | Kont::Catch(k) => self.resume_try(k, v),
            Kont::Finally(k) => self.resume_finally(k),
            Kont::Each(k) => self.resume_each(k, v),
            Kont::Vector(k) => self.resume_vector(k, v),
            Kont::Map(k) => self.resume_map(k, v),
            Kont::Set(k) => self.resume_set(k, v),
        }
    }

    /// `recur` arrived at frame `k`.
    fn recur(&mut self, k: Kont, vals: Vec<Value>) -> Step {
        match k {
            Kont::Loop(k) => self.recur_loop(k, vals),
            Kont::Fn(k) => self.recur_fn(k, vals),
            // Tail position is checked where `recur` is evaluated, so only
            // its target can receive it.
            _ => fail(special::recur_misplaced()),
        }
    }

    /// An error arrived at frame `k`: only `try` frames stop it.
    fn unwind(&mut self, k: Kont, e: Error) -> Step {
        match k {
            Kont::Try(k) => self.unwind_try(k, e),
            Kont::Catch(k) => self.unwind_catch(k, e),
            _ => fail(e),
        }
    }
}
