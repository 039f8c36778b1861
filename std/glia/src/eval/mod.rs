//! The evaluator: an [`Interpreter`] holds a session's globals and the
//! embedder's hooks, and evaluates forms asynchronously.
//!
//! Evaluation is `async` so that a capability call can be awaited in the
//! middle of an expression. The crate has no executor: the embedder drives
//! the futures (the kernel with the guest SDK's `wasi:io/poll` executor,
//! tests with `futures::executor::block_on`).
//!
//! # Stack and memory
//!
//! Evaluation runs on a [`machine`] with its own stack of continuation
//! frames on the heap, so deep recursion in Glia does not deepen the host
//! stack (a cell's is small: Wasmtime gives wasm 512 KiB by default). The
//! frames are counted: past [`Interpreter::set_depth_limit`] (default
//! [`DEFAULT_DEPTH_LIMIT`]) evaluation fails with [`Error::Depth`] instead
//! of exhausting memory. `loop`/`recur`, `recur` to a `fn`, and calls in
//! tail position run in constant space. The count is given back when an
//! evaluation ends, fails or is dropped, so nothing is left behind.
//!
//! An embedder's native function that calls back into Glia
//! ([`Interpreter::apply`]) starts a nested machine, which does use host
//! stack; nesting is capped
//! by [`MAX_NESTED_RUNS`] and, as a second guard, by a budget of host
//! stack bytes measured from stack addresses
//! ([`Interpreter::set_stack_budget`], default [`DEFAULT_STACK_BUDGET`]).

mod machine;
mod special;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use crate::cap::Capability;
use crate::env::{self, Env};
use crate::error::Error;
use crate::reader::read_all;
use crate::value::{Arity, NativeBody, Value, ValueFuture};

use machine::Step;
pub use machine::{MAX_NESTED_RUNS, YIELD_EVERY};

/// The default cap on evaluation depth, in continuation frames (see
/// [`Interpreter::set_depth_limit`]). A call of a recursive function that
/// is not in tail position costs about two frames; a frame is 88 bytes on
/// a 64-bit host (less on `wasm32`), plus the bindings it keeps alive.
pub const DEFAULT_DEPTH_LIMIT: usize = 50_000;

/// The default host stack budget for nested machines, in bytes (see
/// [`Interpreter::set_stack_budget`]): half of a 1 MiB stack, the
/// `wasm32-wasip2` default and the smallest a test thread gets here.
pub const DEFAULT_STACK_BUDGET: usize = 512 * 1024;

type Resolver = dyn Fn(&Interpreter, &str) -> Option<Value>;
type Output = dyn Fn(&str);

struct Inner {
    globals: RefCell<HashMap<Rc<str>, Value>>,
    output: RefCell<Rc<Output>>,
    resolver: RefCell<Option<Rc<Resolver>>>,
    /// Continuation frames on all running machines.
    depth: Cell<usize>,
    depth_limit: Cell<usize>,
    /// Set by [`Interpreter::interrupt`].
    interrupted: Cell<bool>,
    /// Machines running, nested through native functions.
    runs: Cell<usize>,
    /// The stack address where the outermost machine began.
    stack_base: Cell<usize>,
    stack_budget: Cell<usize>,
}

/// A Glia session: global definitions, the output sink, the embedder's
/// hooks. Cloning it gives another handle to the same session.
///
/// Single-threaded (`Rc` inside), like a cell.
#[derive(Clone)]
pub struct Interpreter {
    inner: Rc<Inner>,
}

/// Sizes of a session, for tests that check nothing accumulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Global definitions.
    pub globals: usize,
    /// Continuation frames held by running evaluations (0 between
    /// top-level forms).
    pub depth: usize,
    /// Local environment frames alive on this thread (0 between top-level
    /// forms, unless a global closure holds some).
    pub frames: usize,
}

/// Where an expression sits: whether `recur` may appear here, and with how
/// many arguments.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    pub(crate) tail: bool,
    pub(crate) recur: Option<usize>,
}

impl Ctx {
    /// Not in tail position of any `loop` or `fn`.
    pub(crate) const VALUE: Ctx = Ctx {
        tail: false,
        recur: None,
    };

    /// The tail of a `loop` or `fn` body whose `recur` takes `arity` values.
    pub(crate) fn body(arity: usize) -> Ctx {
        Ctx {
            tail: true,
            recur: Some(arity),
        }
    }
}

/// What evaluating in tail position gives: a value, or a request to
/// re-enter the innermost `loop` / `fn` with new values.
pub(crate) enum Flow {
    Done(Value),
    Recur(Vec<Value>),
}

/// Gives back a nesting level when a machine ends.
struct RunGuard<'a>(&'a Cell<usize>);

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

impl Default for Interpreter {
    fn default() -> Self {
        Interpreter::new()
    }
}

impl Interpreter {
    /// A session with the core library bound and output discarded (see
    /// [`Interpreter::set_output`]).
    pub fn new() -> Interpreter {
        let interp = Interpreter::empty();
        crate::core::install(&interp);
        interp
    }

    /// A session with nothing bound: only the special forms work.
    pub fn empty() -> Interpreter {
        Interpreter {
            inner: Rc::new(Inner {
                globals: RefCell::new(HashMap::new()),
                output: RefCell::new(Rc::new(|_: &str| {})),
                resolver: RefCell::new(None),
                depth: Cell::new(0),
                runs: Cell::new(0),
                interrupted: Cell::new(false),
                depth_limit: Cell::new(DEFAULT_DEPTH_LIMIT),
                stack_base: Cell::new(0),
                stack_budget: Cell::new(DEFAULT_STACK_BUDGET),
            }),
        }
    }

    /// Binds a global name, as `def` does (replacing any earlier binding).
    pub fn define(&self, name: &str, value: Value) {
        self.inner
            .globals
            .borrow_mut()
            .insert(Rc::from(name), value);
    }

    /// Binds a global native function that returns at once; see
    /// [`Value::native`].
    pub fn define_fn(
        &self,
        name: &str,
        doc: &str,
        arity: Arity,
        f: impl Fn(&Interpreter, &[Value]) -> Result<Value, Error> + 'static,
    ) {
        self.define(name, Value::native(name, doc, arity, f));
    }

    /// Binds a global native function that awaits; see
    /// [`Value::native_async`].
    pub fn define_async_fn(
        &self,
        name: &str,
        doc: &str,
        arity: Arity,
        f: impl Fn(Interpreter, Vec<Value>) -> ValueFuture + 'static,
    ) {
        self.define(name, Value::native_async(name, doc, arity, f));
    }

    /// Binds a capability under its [`Capability::name`].
    pub fn define_cap(&self, cap: impl Capability + 'static) {
        let cap: Rc<dyn Capability> = Rc::new(cap);
        let name = cap.name().to_string();
        self.define(&name, Value::Cap(cap));
    }

    /// Removes a global binding; returns what it was.
    pub fn undefine(&self, name: &str) -> Option<Value> {
        self.inner.globals.borrow_mut().remove(name)
    }

    /// The global binding of `name`.
    pub fn lookup(&self, name: &str) -> Option<Value> {
        self.inner.globals.borrow().get(name).cloned()
    }

    /// Every global name, sorted (for `help` and completion).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .inner
            .globals
            .borrow()
            .keys()
            .map(|k| k.to_string())
            .collect();
        names.sort();
        names
    }

    /// The capabilities bound to global names, sorted by name (for a
    /// `(caps)` listing).
    pub fn caps(&self) -> Vec<(String, Rc<dyn Capability>)> {
        let mut caps: Vec<(String, Rc<dyn Capability>)> = self
            .inner
            .globals
            .borrow()
            .iter()
            .filter_map(|(name, v)| match v {
                Value::Cap(c) => Some((name.to_string(), c.clone())),
                _ => None,
            })
            .collect();
        caps.sort_by(|a, b| a.0.cmp(&b.0));
        caps
    }

    /// The docstring of the global `name`, if it is bound to something that
    /// has one.
    pub fn doc(&self, name: &str) -> Option<String> {
        self.lookup(name)?.doc()
    }

    /// Where `println` and friends write. The default discards.
    pub fn set_output(&self, sink: impl Fn(&str) + 'static) {
        *self.inner.output.borrow_mut() = Rc::new(sink);
    }

    /// Writes `text` to the output sink.
    pub fn write(&self, text: &str) {
        let sink = self.inner.output.borrow().clone();
        sink(text);
    }

    /// Sets the head-symbol fallback: when the head of a list is a symbol
    /// with no binding, `resolver` is asked for a function to call in its
    /// place (the kernel returns one that runs `/bin/<name>` as a child
    /// cell). The arguments are evaluated and passed to what it returns;
    /// `None` makes the symbol an [`Error::Unbound`].
    pub fn set_resolver(&self, resolver: impl Fn(&Interpreter, &str) -> Option<Value> + 'static) {
        *self.inner.resolver.borrow_mut() = Some(Rc::new(resolver));
    }

    /// Caps how many continuation frames evaluation may hold (roughly,
    /// how deep non-tail recursion may go) before [`Error::Depth`].
    pub fn set_depth_limit(&self, limit: usize) {
        self.inner.depth_limit.set(limit);
    }

    /// Caps how many bytes of host stack nested machines (native
    /// functions calling back into Glia) may use below the outermost one,
    /// before [`Error::Depth`]. Keep it well under the stack the
    /// evaluation runs on.
    pub fn set_stack_budget(&self, bytes: usize) {
        self.inner.stack_budget.set(bytes);
    }

    /// The current nesting cap.
    pub fn depth_limit(&self) -> usize {
        self.inner.depth_limit.get()
    }

    /// Interrupts the evaluation in progress (Ctrl-C): it fails with
    /// [`Error::Interrupted`] at its next yield, within [`YIELD_EVERY`]
    /// steps. Call it from a future that runs beside the evaluation (the
    /// evaluation yields to the executor every [`YIELD_EVERY`] steps, so
    /// such a future gets polled even during a long computation), or drop
    /// the evaluation's future instead when it is waiting on a capability.
    /// Has no effect on the next top-level evaluation.
    pub fn interrupt(&self) {
        self.inner.interrupted.set(true);
    }

    /// Sizes of the session right now.
    pub fn stats(&self) -> Stats {
        Stats {
            globals: self.inner.globals.borrow().len(),
            depth: self.inner.depth.get(),
            frames: env::live_frames(),
        }
    }

    /// Evaluates one form at top level.
    ///
    /// # Errors
    ///
    /// Any [`Error`]; the session stays usable.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops the evaluation at its current await point
    /// (e.g. a capability call): definitions already made stay, nothing
    /// else is left behind.
    pub async fn eval(&self, form: &Value) -> Result<Value, Error> {
        machine::run(self, Step::Eval(form.clone(), None, Ctx::VALUE)).await
    }

    /// Reads `src` and evaluates its forms in order; returns the last
    /// value (`nil` for no forms). Nothing runs if `src` does not read.
    ///
    /// # Errors
    ///
    /// [`Error::Read`] (check [`Error::is_incomplete`] in a REPL), or the
    /// first form's error, after which the rest are not evaluated.
    pub async fn eval_str(&self, src: &str) -> Result<Value, Error> {
        let forms = read_all(src)?;
        let mut last = Value::Nil;
        for form in &forms {
            last = self.eval(form).await?;
        }
        Ok(last)
    }

    /// Calls a function value (a Glia `fn`, a native function, a keyword,
    /// map or set used as a function, or a capability with the method name
    /// as first argument) with evaluated arguments.
    ///
    /// # Errors
    ///
    /// [`Error::NotCallable`], [`Error::Arity`], or the function's own.
    pub async fn apply(&self, f: &Value, args: Vec<Value>) -> Result<Value, Error> {
        self.apply_other(f, args).await
    }

    /// Calls anything but a Glia `fn` (which needs a machine).
    async fn apply_other(&self, f: &Value, args: Vec<Value>) -> Result<Value, Error> {
        match f {
            Value::Native(n) if matches!(n.body, NativeBody::Machine(_)) => {
                Box::pin(machine::run(self, Step::Apply(f.clone(), args))).await
            }
            Value::Native(n) => machine::call_native(self, n, args).await,
            Value::Fn(_) => Box::pin(machine::run(self, Step::Apply(f.clone(), args))).await,
            Value::Keyword(_) | Value::Map(_) | Value::Set(_) => {
                if !(1..=2).contains(&args.len()) {
                    return Err(Error::Arity {
                        name: crate::printer::pr_str(f),
                        expected: "1 to 2".into(),
                        got: args.len(),
                    });
                }
                let default = args.get(1).cloned().unwrap_or(Value::Nil);
                Ok(match f {
                    Value::Keyword(_) => crate::core::get(&args[0], f).unwrap_or(default),
                    _ => crate::core::get(f, &args[0]).unwrap_or(default),
                })
            }
            Value::Cap(cap) => {
                let mut args = args.into_iter();
                let method = match args.next().as_ref() {
                    Some(Value::Symbol(m) | Value::Keyword(m) | Value::Str(m)) => m.clone(),
                    _ => return Err(machine::missing_method(cap.as_ref())),
                };
                let methods = cap.methods();
                if !methods.iter().any(|m| **m == *method) {
                    return Err(Error::NoMethod {
                        cap: cap.name().to_string(),
                        method: method.to_string(),
                        methods,
                    });
                }
                cap.call(&method, args.collect()).await
            }
            other => Err(Error::NotCallable(format!(
                "{} {}",
                other.type_name(),
                crate::printer::pr_str(other)
            ))),
        }
    }

    /// Starts a machine: counts the nesting and checks the stack budget.
    fn enter_run(&self) -> Result<RunGuard<'_>, Error> {
        let runs = &self.inner.runs;
        if runs.get() >= MAX_NESTED_RUNS {
            return Err(Error::Depth(self.inner.depth.get()));
        }
        let marker = 0u8;
        let here = std::hint::black_box(&marker) as *const u8 as usize;
        if runs.get() == 0 {
            self.inner.stack_base.set(here);
            // An interruption is for the evaluation it interrupted.
            self.inner.interrupted.set(false);
        } else if self.inner.stack_base.get().saturating_sub(here) > self.inner.stack_budget.get() {
            return Err(Error::Depth(self.inner.depth.get()));
        }
        runs.set(runs.get() + 1);
        Ok(RunGuard(runs))
    }

    fn global(&self, name: &str) -> Option<Value> {
        self.inner.globals.borrow().get(name).cloned()
    }

    fn resolve(&self, name: &str, env: &Env) -> Result<Value, Error> {
        env::lookup(env, name)
            .or_else(|| self.global(name))
            .ok_or_else(|| Error::Unbound(name.to_string()))
    }
}

#[cfg(test)]
mod tests;
