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
//! Each nested list evaluation costs host stack while its future is polled
//! (measured: about 1.4 KB per level in an x86-64 release build, 8 KB in
//! a debug build, ~0.45 KB of Wasmtime's stack in a `wasm32-wasip2`
//! release build; one call of a recursive Glia function is about three
//! levels). Two limits turn runaway recursion into an [`Error::Depth`]
//! instead of a crashed host: a count of levels
//! ([`Interpreter::set_depth_limit`], default [`DEFAULT_DEPTH_LIMIT`]) and
//! a budget of stack bytes below the top-level form, measured from stack
//! addresses ([`Interpreter::set_stack_budget`], default
//! [`DEFAULT_STACK_BUDGET`]). An embedder that wants deeper recursion
//! raises both and gives the thread a bigger stack (on `wasm32-wasip2`,
//! the linker's `-z stack-size`). `loop` /
//! `recur` (and `recur` to a `fn`) re-enter the body in a Rust loop, so a
//! million iterations use constant stack and memory. The depth counter is
//! restored by a guard, so an evaluation that fails or is dropped midway
//! leaves nothing behind.

mod special;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::cap::Capability;
use crate::env::{self, Env, Frame};
use crate::error::Error;
use crate::reader::read_all;
use crate::value::{Arity, Lambda, NativeBody, Value, ValueFuture};

/// The default cap on evaluation nesting, in levels (see
/// [`Interpreter::set_depth_limit`]).
///
/// Measured in a release `wasm32-wasip2` build run by `ww` (Wasmtime's
/// default 512 KiB wasm stack): a recursive `(+ 1 (f (- n 1)))` trapped
/// with "call stack exhausted" at about 1,100 levels (n ≈ 370). The
/// default is half of that. The stack budget below cannot see Wasmtime's
/// own stack, only the linear-memory one, so inside a cell this count is
/// what protects the cell: raise it only together with the engine's
/// `max_wasm_stack`.
pub const DEFAULT_DEPTH_LIMIT: usize = 500;

/// The default stack budget, in bytes (see
/// [`Interpreter::set_stack_budget`]): half of a 1 MiB stack, the
/// `wasm32-wasip2` default and the smallest a test thread gets here.
pub const DEFAULT_STACK_BUDGET: usize = 512 * 1024;

type Resolver = dyn Fn(&Interpreter, &str) -> Option<Value>;
type Output = dyn Fn(&str);

struct Inner {
    globals: RefCell<HashMap<Rc<str>, Value>>,
    output: RefCell<Rc<Output>>,
    resolver: RefCell<Option<Rc<Resolver>>>,
    depth: Cell<usize>,
    depth_limit: Cell<usize>,
    /// The stack address where the current top-level evaluation began.
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
    /// Current evaluation nesting (0 between top-level forms).
    pub depth: usize,
    /// Local environment frames alive on this thread (0 between top-level
    /// forms, unless a global closure holds some).
    pub frames: usize,
}

/// Where an expression sits: whether `recur` may appear here, and with how
/// many arguments.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    tail: bool,
    recur: Option<usize>,
}

impl Ctx {
    /// Not in tail position of any `loop` or `fn`.
    pub(crate) const VALUE: Ctx = Ctx {
        tail: false,
        recur: None,
    };

    /// The tail of a `loop` or `fn` body whose `recur` takes `arity` values.
    fn body(arity: usize) -> Ctx {
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

pub(crate) type FlowFuture<'a> = Pin<Box<dyn Future<Output = Result<Flow, Error>> + 'a>>;
type ApplyFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, Error>> + 'a>>;

/// The future of [`Interpreter::eval_in`]: ready at once for an atom,
/// boxed for anything that nests.
pub(crate) enum EvalFut<'a> {
    Ready(Option<Result<Flow, Error>>),
    Flow(FlowFuture<'a>),
    Value(ApplyFuture<'a>),
}

impl Future for EvalFut<'_> {
    type Output = Result<Flow, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut *self {
            EvalFut::Ready(ready) => Poll::Ready(ready.take().expect("polled after completion")),
            EvalFut::Flow(f) => f.as_mut().poll(cx),
            EvalFut::Value(f) => f.as_mut().poll(cx).map(|r| r.map(Flow::Done)),
        }
    }
}

/// The future of [`Interpreter::value`].
pub(crate) struct ValueFut<'a>(EvalFut<'a>);

impl Future for ValueFut<'_> {
    type Output = Result<Value, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|r| match r? {
            Flow::Done(v) => Ok(v),
            Flow::Recur(_) => Err(special::recur_misplaced()),
        })
    }
}

struct DepthGuard<'a>(&'a Cell<usize>);

impl Drop for DepthGuard<'_> {
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

    /// Caps how deeply evaluation may nest before [`Error::Depth`].
    pub fn set_depth_limit(&self, limit: usize) {
        self.inner.depth_limit.set(limit);
    }

    /// Caps how many bytes of host stack evaluation may use below where
    /// the top-level form began, before [`Error::Depth`]. Keep it well
    /// under the stack the evaluation runs on.
    pub fn set_stack_budget(&self, bytes: usize) {
        self.inner.stack_budget.set(bytes);
    }

    /// The current nesting cap.
    pub fn depth_limit(&self) -> usize {
        self.inner.depth_limit.get()
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
        self.value(form, &None).await
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
        self.apply_boxed(f, args).await
    }

    /// [`Interpreter::apply`] as its own boxed future, so that a caller's
    /// stack frame does not grow by the size of every kind of call.
    fn apply_boxed<'a>(&'a self, f: &'a Value, args: Vec<Value>) -> ApplyFuture<'a> {
        Box::pin(async move { self.apply_now(f, args).await })
    }

    async fn apply_now(&self, f: &Value, args: Vec<Value>) -> Result<Value, Error> {
        match f {
            Value::Native(n) => {
                if !n.arity.accepts(args.len()) {
                    return Err(Error::Arity {
                        name: n.name.clone(),
                        expected: n.arity.to_string(),
                        got: args.len(),
                    });
                }
                match &n.body {
                    NativeBody::Sync(body) => body(self, &args),
                    NativeBody::Async(body) => body(self.clone(), args).await,
                }
            }
            Value::Fn(lambda) => self.apply_lambda(lambda, args).await,
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
                let method = match args.next() {
                    Some(Value::Symbol(m) | Value::Keyword(m) | Value::Str(m)) => m,
                    _ => return Err(missing_method(cap.as_ref())),
                };
                self.call_cap(cap.as_ref(), &method, args.collect()).await
            }
            other => Err(Error::NotCallable(format!(
                "{} {}",
                other.type_name(),
                crate::printer::pr_str(other)
            ))),
        }
    }

    fn enter(&self) -> Result<DepthGuard<'_>, Error> {
        let depth = &self.inner.depth;
        let limit = self.inner.depth_limit.get();
        if depth.get() >= limit {
            return Err(Error::Depth(depth.get()));
        }
        let marker = 0u8;
        let here = std::hint::black_box(&marker) as *const u8 as usize;
        if depth.get() == 0 {
            self.inner.stack_base.set(here);
        } else if self.inner.stack_base.get().saturating_sub(here) > self.inner.stack_budget.get() {
            return Err(Error::Depth(depth.get()));
        }
        depth.set(depth.get() + 1);
        Ok(DepthGuard(depth))
    }

    fn global(&self, name: &str) -> Option<Value> {
        self.inner.globals.borrow().get(name).cloned()
    }

    fn resolve(&self, name: &str, env: &Env) -> Result<Value, Error> {
        env::lookup(env, name)
            .or_else(|| self.global(name))
            .ok_or_else(|| Error::Unbound(name.to_string()))
    }

    /// Evaluates `form` where `recur` may not appear.
    pub(crate) fn value<'a>(&'a self, form: &'a Value, env: &'a Env) -> ValueFut<'a> {
        ValueFut(self.eval_in(form, env, Ctx::VALUE))
    }

    /// Evaluates `form` in position `ctx`. Atoms are evaluated at once;
    /// lists and collection literals are boxed futures, so recursion goes
    /// through the heap and each level costs only its own poll frame.
    pub(crate) fn eval_in<'a>(&'a self, form: &'a Value, env: &'a Env, ctx: Ctx) -> EvalFut<'a> {
        match form {
            Value::Symbol(name) => EvalFut::Ready(Some(self.resolve(name, env).map(Flow::Done))),
            Value::List(items) if !items.is_empty() => {
                EvalFut::Flow(self.eval_list(items, env, ctx))
            }
            Value::Vector(_) | Value::Map(_) | Value::Set(_) => {
                EvalFut::Value(self.eval_collection(form, env))
            }
            other => EvalFut::Ready(Some(Ok(Flow::Done(other.clone())))),
        }
    }

    /// Evaluates `body` as `do` does: all but the last for effect.
    pub(crate) async fn eval_body(
        &self,
        body: &[Value],
        env: &Env,
        ctx: Ctx,
    ) -> Result<Flow, Error> {
        let Some((last, init)) = body.split_last() else {
            return Ok(Flow::Done(Value::Nil));
        };
        for form in init {
            self.value(form, env).await?;
        }
        self.eval_in(last, env, ctx).await
    }

    fn eval_list<'a>(&'a self, items: &'a [Value], env: &'a Env, ctx: Ctx) -> FlowFuture<'a> {
        Box::pin(async move {
            let _guard = self.enter()?;
            let head = &items[0];
            let f = match head {
                Value::Symbol(name) => {
                    if let Some(form) = special::lookup(name) {
                        return special::eval(self, form, items, env, ctx).await;
                    }
                    match env::lookup(env, name).or_else(|| self.global(name)) {
                        Some(f) => f,
                        None => {
                            let resolver = self.inner.resolver.borrow().clone();
                            resolver
                                .and_then(|r| r(self, name))
                                .ok_or_else(|| Error::Unbound(name.to_string()))?
                        }
                    }
                }
                other => self.value(other, env).await?,
            };
            if let Value::Cap(cap) = &f {
                let method = match items.get(1) {
                    Some(Value::Symbol(m) | Value::Keyword(m)) => m,
                    Some(other) => {
                        return Err(Error::type_error(
                            cap.name(),
                            "a method name (a symbol)",
                            other,
                        ))
                    }
                    None => return Err(missing_method(cap.as_ref())),
                };
                let mut args = Vec::with_capacity(items.len().saturating_sub(2));
                for arg in &items[2..] {
                    args.push(self.value(arg, env).await?);
                }
                return self
                    .call_cap(cap.as_ref(), method, args)
                    .await
                    .map(Flow::Done);
            }
            let mut args = Vec::with_capacity(items.len() - 1);
            for arg in &items[1..] {
                args.push(self.value(arg, env).await?);
            }
            match &f {
                // The common cases skip `apply`'s frame.
                Value::Fn(lambda) => self.apply_lambda(lambda, args).await,
                Value::Native(n) if n.arity.accepts(args.len()) => match &n.body {
                    NativeBody::Sync(body) => body(self, &args),
                    NativeBody::Async(body) => body(self.clone(), args).await,
                },
                _ => self.apply_boxed(&f, args).await,
            }
            .map(Flow::Done)
        })
    }

    async fn call_cap(
        &self,
        cap: &dyn Capability,
        method: &str,
        args: Vec<Value>,
    ) -> Result<Value, Error> {
        let methods = cap.methods();
        if !methods.iter().any(|m| m == method) {
            return Err(Error::NoMethod {
                cap: cap.name().to_string(),
                method: method.to_string(),
                methods,
            });
        }
        cap.call(method, args).await
    }

    fn eval_collection<'a>(&'a self, form: &'a Value, env: &'a Env) -> ApplyFuture<'a> {
        Box::pin(async move {
            let _guard = self.enter()?;
            Ok(match form {
                Value::Vector(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items.iter() {
                        out.push(self.value(item, env).await?);
                    }
                    Value::vector(out)
                }
                Value::Map(map) => {
                    let mut out = std::collections::BTreeMap::new();
                    for (k, v) in map.iter() {
                        let k = self.value(k, env).await?;
                        let v = self.value(v, env).await?;
                        out.insert(k, v);
                    }
                    Value::Map(Rc::new(out))
                }
                Value::Set(items) => {
                    let mut out = std::collections::BTreeSet::new();
                    for item in items.iter() {
                        out.insert(self.value(item, env).await?);
                    }
                    Value::Set(Rc::new(out))
                }
                other => other.clone(),
            })
        })
    }

    fn apply_lambda<'a>(&'a self, lambda: &'a Rc<Lambda>, args: Vec<Value>) -> ApplyFuture<'a> {
        Box::pin(async move {
            let Some(clause) = lambda.clauses.iter().find(|c| c.accepts(args.len())) else {
                return Err(Error::Arity {
                    name: lambda.name.as_deref().unwrap_or("fn").to_string(),
                    expected: lambda_arity(lambda),
                    got: args.len(),
                });
            };
            let fixed = clause.params.len();
            let arity = fixed + usize::from(clause.rest.is_some());
            let mut args = args;
            let mut first = true;
            loop {
                let mut vars = Vec::with_capacity(arity + 1);
                if let (true, Some(name)) = (lambda.self_bind, &lambda.name) {
                    vars.push((name.clone(), Value::Fn(lambda.clone())));
                }
                let mut values = args.into_iter();
                for param in &clause.params {
                    vars.push((param.clone(), values.next().unwrap_or(Value::Nil)));
                }
                if let Some(rest) = &clause.rest {
                    let rest_value = if first {
                        let rest: Vec<Value> = values.collect();
                        if rest.is_empty() {
                            Value::Nil
                        } else {
                            Value::list(rest)
                        }
                    } else {
                        values.next().unwrap_or(Value::Nil)
                    };
                    vars.push((rest.clone(), rest_value));
                }
                let env = Frame::push(&lambda.env, vars);
                match self.eval_body(&clause.body, &env, Ctx::body(arity)).await? {
                    Flow::Done(v) => return Ok(v),
                    Flow::Recur(next) => {
                        args = next;
                        first = false;
                    }
                }
            }
        })
    }
}

fn missing_method(cap: &dyn Capability) -> Error {
    Error::Native(format!(
        "`{0}` is a capability: call one of its methods, as in `({0} <method> args…)`; its methods: {1}",
        cap.name(),
        cap.methods().join(" ")
    ))
}

fn lambda_arity(lambda: &Lambda) -> String {
    let arities: Vec<String> = lambda
        .clauses
        .iter()
        .map(|c| match c.rest {
            Some(_) => format!("{} or more", c.params.len()),
            None => c.params.len().to_string(),
        })
        .collect();
    arities.join(" or ")
}

#[cfg(test)]
mod tests;
