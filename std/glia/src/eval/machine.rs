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

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::special::{self, Form, TryParts};
use super::{Ctx, Flow, Interpreter};
use crate::cap::Capability;
use crate::core::elements;
use crate::env::{self, Env, Frame};
use crate::error::Error;
use crate::value::{Hof, Lambda, NativeBody, Value};

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

/// What to do with the arguments once a call's elements are evaluated.
enum Target {
    Call,
    Cap(Rc<dyn Capability>, Rc<str>),
    Recur,
}

/// A continuation frame: what to do with the value of the part of a form
/// being evaluated.
enum Kont {
    /// The rest of a body: `list[pos..end]`, the last form in `ctx`.
    Body {
        list: Rc<Vec<Value>>,
        pos: usize,
        end: usize,
        env: Env,
        ctx: Ctx,
    },
    /// The elements of a call (or `recur`): `vals` so far, `list[next..]`
    /// to go.
    Args {
        target: Target,
        list: Rc<Vec<Value>>,
        next: usize,
        vals: Vec<Value>,
        env: Env,
    },
    If {
        list: Rc<Vec<Value>>,
        env: Env,
        ctx: Ctx,
    },
    Def {
        name: Rc<str>,
        doc: Option<Rc<str>>,
    },
    /// `let` with the binding at `pairs[i]` being evaluated.
    Let {
        list: Rc<Vec<Value>>,
        pairs: Rc<Vec<Value>>,
        i: usize,
        env: Env,
        ctx: Ctx,
    },
    /// `loop`'s initial values, as `let` evaluates them.
    LoopInit {
        list: Rc<Vec<Value>>,
        pairs: Rc<Vec<Value>>,
        i: usize,
        vals: Vec<Value>,
        env: Env,
        outer: Env,
    },
    /// Where `recur` in a `loop` body returns.
    Loop {
        list: Rc<Vec<Value>>,
        pairs: Rc<Vec<Value>>,
        outer: Env,
    },
    /// Where `recur` in a function body returns.
    Fn {
        lambda: Rc<Lambda>,
        clause: usize,
    },
    Throw,
    AndOr {
        list: Rc<Vec<Value>>,
        next: usize,
        env: Env,
        ctx: Ctx,
        and: bool,
    },
    When {
        list: Rc<Vec<Value>>,
        env: Env,
        ctx: Ctx,
        when: bool,
    },
    /// `cond` with the test at `list[at]` being evaluated.
    Cond {
        list: Rc<Vec<Value>>,
        at: usize,
        env: Env,
        ctx: Ctx,
    },
    Try {
        parts: Rc<TryParts>,
        env: Env,
    },
    Catch {
        parts: Rc<TryParts>,
        env: Env,
    },
    Finally {
        result: Result<Flow, Error>,
    },
    /// A core function that calls `f` for each element: `colls[..][i]`
    /// is being called.
    Each {
        hof: Hof,
        f: Value,
        colls: Vec<Vec<Value>>,
        i: usize,
        out: Vec<Value>,
    },
    Vector {
        items: Rc<Vec<Value>>,
        next: usize,
        out: Vec<Value>,
        env: Env,
    },
    Map {
        entries: Vec<Value>,
        next: usize,
        out: Vec<Value>,
        env: Env,
    },
    Set {
        items: Vec<Value>,
        next: usize,
        out: BTreeSet<Value>,
        env: Env,
    },
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

    /// Evaluates `list[pos..end]` as `do` does.
    fn body(&mut self, list: Rc<Vec<Value>>, pos: usize, end: usize, env: Env, ctx: Ctx) -> Step {
        if pos >= end {
            return done(Value::Nil);
        }
        if pos + 1 == end {
            return Step::Eval(list[pos].clone(), env, ctx);
        }
        let form = list[pos].clone();
        let k = Kont::Body {
            list,
            pos: pos + 1,
            end,
            env: env.clone(),
            ctx,
        };
        self.then(k, &form, env)
    }

    fn eval(&mut self, form: Value, env: Env, ctx: Ctx) -> Step {
        match &form {
            Value::List(items) if !items.is_empty() => self.eval_list(items.clone(), env, ctx),
            Value::Vector(items) if !items.is_empty() => {
                self.vector(items.clone(), 0, Vec::new(), env)
            }
            Value::Map(m) if !m.is_empty() => {
                let entries = m.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect();
                self.map(entries, 0, Vec::new(), env)
            }
            Value::Set(s) if !s.is_empty() => {
                self.set(s.iter().cloned().collect(), 0, BTreeSet::new(), env)
            }
            other => Step::Return(
                atom(self.interp, other, &env)
                    .expect("an atom")
                    .map(Flow::Done),
            ),
        }
    }

    fn eval_list(&mut self, list: Rc<Vec<Value>>, env: Env, ctx: Ctx) -> Step {
        let Value::Symbol(name) = &list[0] else {
            // `((fn [x] x) 1)`, `({:a 1} :a)`: evaluate the head like an
            // argument.
            let head = list[0].clone();
            let k = Kont::Args {
                target: Target::Call,
                vals: Vec::with_capacity(list.len()),
                list,
                next: 1,
                env: env.clone(),
            };
            return self.then(k, &head, env);
        };
        if let Some(form) = special::lookup(name) {
            return match self.special(form, list, env, ctx) {
                Ok(step) => step,
                Err(e) => fail(e),
            };
        }
        let f = match env::lookup(&env, name).or_else(|| self.interp.global(name)) {
            Some(f) => f,
            None => {
                let resolver = self.interp.inner.resolver.borrow().clone();
                match resolver.and_then(|r| r(self.interp, name)) {
                    Some(f) => f,
                    None => return fail(Error::Unbound(name.to_string())),
                }
            }
        };
        let mut vals = Vec::with_capacity(list.len());
        vals.push(f);
        self.args(Target::Call, list, 1, vals, env)
    }

    /// Evaluates the elements of a call from `list[next]` on: atoms at
    /// once, the first compound one with an `Args` frame.
    fn args(
        &mut self,
        mut target: Target,
        list: Rc<Vec<Value>>,
        mut next: usize,
        mut vals: Vec<Value>,
        env: Env,
    ) -> Step {
        // The head is a capability: the next element names the method.
        if let (Target::Call, [Value::Cap(cap)]) = (&target, vals.as_slice()) {
            let method = match list.get(next) {
                Some(Value::Symbol(m) | Value::Keyword(m)) => m.clone(),
                Some(other) => {
                    return fail(Error::type_error(
                        cap.name(),
                        "a method name (a symbol)",
                        other,
                    ))
                }
                None => return fail(missing_method(cap.as_ref())),
            };
            target = Target::Cap(cap.clone(), method);
            vals.clear();
            next += 1;
        }
        while let Some(form) = list.get(next) {
            next += 1;
            match atom(self.interp, form, &env) {
                Some(Ok(v)) => vals.push(v),
                Some(Err(e)) => return fail(e),
                None => {
                    let form = form.clone();
                    let k = Kont::Args {
                        target,
                        list,
                        next,
                        vals,
                        env: env.clone(),
                    };
                    return self.then(k, &form, env);
                }
            }
        }
        match target {
            Target::Call => {
                let mut vals = vals.into_iter();
                let f = vals.next().expect("the head");
                Step::Apply(f, vals.collect())
            }
            Target::Cap(cap, method) => {
                // Awaited by `apply`, which knows capabilities.
                let mut args = Vec::with_capacity(vals.len() + 1);
                args.push(Value::Symbol(method));
                args.extend(vals);
                Step::Apply(Value::Cap(cap), args)
            }
            Target::Recur => Step::Return(Ok(Flow::Recur(vals))),
        }
    }

    fn special(
        &mut self,
        form: Form,
        list: Rc<Vec<Value>>,
        env: Env,
        ctx: Ctx,
    ) -> Result<Step, Error> {
        let n = list.len() - 1;
        Ok(match form {
            Form::Quote => {
                special::expect("quote", n == 1, "takes one form: (quote x) or 'x")?;
                done(list[1].clone())
            }
            Form::If => {
                special::expect(
                    "if",
                    n == 2 || n == 3,
                    "takes a test and one or two branches: (if test then else)",
                )?;
                let test = list[1].clone();
                self.then(
                    Kont::If {
                        list,
                        env: env.clone(),
                        ctx,
                    },
                    &test,
                    env,
                )
            }
            Form::Do => {
                let end = list.len();
                self.body(list, 1, end, env, ctx)
            }
            Form::Def => {
                let special::DefParts { name, doc, expr } = special::def_parts(&list)?;
                match expr {
                    None => {
                        self.interp.define(&name, Value::Nil);
                        done(Value::Nil)
                    }
                    Some(at) => {
                        let expr = list[at].clone();
                        self.then(Kont::Def { name, doc }, &expr, env)
                    }
                }
            }
            Form::Defn => {
                let (name, f) = special::defn(&list, &env)?;
                self.interp.define(&name, f.clone());
                done(f)
            }
            Form::Fn => done(special::lambda(&list, &env)?),
            Form::Let => {
                let pairs = special::bindings("let", &list)?;
                if pairs.is_empty() {
                    let end = list.len();
                    return Ok(self.body(list, 2, end, env, ctx));
                }
                let expr = pairs[1].clone();
                let k = Kont::Let {
                    list,
                    pairs,
                    i: 0,
                    env: env.clone(),
                    ctx,
                };
                self.then(k, &expr, env)
            }
            Form::Loop => {
                let pairs = special::bindings("loop", &list)?;
                if pairs.is_empty() {
                    return Ok(self.start_loop(list, pairs, Vec::new(), env));
                }
                let expr = pairs[1].clone();
                let k = Kont::LoopInit {
                    list,
                    pairs,
                    i: 0,
                    vals: Vec::new(),
                    env: env.clone(),
                    outer: env.clone(),
                };
                self.then(k, &expr, env)
            }
            Form::Recur => {
                let (true, Some(arity)) = (ctx.tail, ctx.recur) else {
                    return Err(special::recur_misplaced());
                };
                if n != arity {
                    return Err(Error::Arity {
                        name: "recur".into(),
                        expected: arity.to_string(),
                        got: n,
                    });
                }
                self.args(Target::Recur, list, 1, Vec::with_capacity(n), env)
            }
            Form::Try => {
                let parts = special::try_parts(&list)?;
                let end = parts.body_end;
                self.push(Kont::Try {
                    parts: Rc::new(parts),
                    env: env.clone(),
                })?;
                // No `recur` across `try`: the body is not in tail position.
                self.body(list, 1, end, env, Ctx::VALUE)
            }
            Form::Throw => {
                special::expect(
                    "throw",
                    n == 1,
                    "takes one value: (throw (ex-info \"message\" {}))",
                )?;
                let x = list[1].clone();
                self.then(Kont::Throw, &x, env)
            }
            Form::And | Form::Or => {
                let and = form == Form::And;
                match n {
                    0 => done(if and { Value::Bool(true) } else { Value::Nil }),
                    1 => Step::Eval(list[1].clone(), env, ctx),
                    _ => {
                        let first = list[1].clone();
                        let k = Kont::AndOr {
                            list,
                            next: 2,
                            env: env.clone(),
                            ctx,
                            and,
                        };
                        self.then(k, &first, env)
                    }
                }
            }
            Form::When | Form::WhenNot => {
                special::expect("when", n >= 1, "(when test body…)")?;
                let test = list[1].clone();
                let k = Kont::When {
                    list,
                    env: env.clone(),
                    ctx,
                    when: form == Form::When,
                };
                self.then(k, &test, env)
            }
            Form::Cond => {
                special::expect(
                    "cond",
                    n.is_multiple_of(2),
                    "takes test/expression pairs: (cond t1 e1 t2 e2 :else e)",
                )?;
                if n == 0 {
                    return Ok(done(Value::Nil));
                }
                let test = list[1].clone();
                let k = Kont::Cond {
                    list,
                    at: 1,
                    env: env.clone(),
                    ctx,
                };
                self.then(k, &test, env)
            }
        })
    }

    fn start_loop(
        &mut self,
        list: Rc<Vec<Value>>,
        pairs: Rc<Vec<Value>>,
        vals: Vec<Value>,
        outer: Env,
    ) -> Step {
        let names = (0..pairs.len())
            .step_by(2)
            .map(|i| special::binding_name(&pairs, i));
        let frame = Frame::push(&outer, names.zip(vals).collect());
        let arity = pairs.len() / 2;
        if let Err(e) = self.push(Kont::Loop {
            list: list.clone(),
            pairs,
            outer,
        }) {
            return fail(e);
        }
        let end = list.len();
        self.body(list, 2, end, frame, Ctx::body(arity))
    }

    /// Enters a function: picks the arity, binds the parameters, and
    /// evaluates the body with a `Fn` frame below it for `recur`.
    fn enter(&mut self, lambda: Rc<Lambda>, clause: Option<usize>, args: Vec<Value>) -> Step {
        let first = clause.is_none();
        let index = match clause {
            Some(i) => i,
            None => match lambda.clauses.iter().position(|c| c.accepts(args.len())) {
                Some(i) => i,
                None => {
                    return fail(Error::Arity {
                        name: lambda.name.as_deref().unwrap_or("fn").to_string(),
                        expected: lambda_arity(&lambda),
                        got: args.len(),
                    })
                }
            },
        };
        // A call in tail position: the frames on top only pass a value
        // through, so they can go (constant space for tail calls).
        while matches!(self.stack.last(), Some(Kont::Fn { .. } | Kont::Loop { .. })) {
            self.pop();
        }
        let c = &lambda.clauses[index];
        let arity = c.params.len() + usize::from(c.rest.is_some());
        let mut vars = Vec::with_capacity(arity + 1);
        if let (true, Some(name)) = (lambda.self_bind, &lambda.name) {
            vars.push((name.clone(), Value::Fn(lambda.clone())));
        }
        let mut values = args.into_iter();
        for param in &c.params {
            vars.push((param.clone(), values.next().unwrap_or(Value::Nil)));
        }
        if let Some(rest) = &c.rest {
            let rest_value = if first {
                let rest: Vec<Value> = values.collect();
                if rest.is_empty() {
                    Value::Nil
                } else {
                    Value::list(rest)
                }
            } else {
                // `recur` passes the rest parameter as one value.
                values.next().unwrap_or(Value::Nil)
            };
            vars.push((rest.clone(), rest_value));
        }
        let env = Frame::push(&lambda.env, vars);
        let body = c.body.clone();
        if let Err(e) = self.push(Kont::Fn {
            lambda: lambda.clone(),
            clause: index,
        }) {
            return fail(e);
        }
        let end = body.len();
        self.body(body, 0, end, env, Ctx::body(arity))
    }

    /// Calls `f`; natives and capabilities are awaited here.
    async fn apply(&mut self, f: Value, args: Vec<Value>) -> Step {
        match &f {
            Value::Fn(lambda) => self.enter(lambda.clone(), None, args),
            Value::Native(n) if matches!(n.body, NativeBody::Machine(_)) => {
                let NativeBody::Machine(hof) = n.body else {
                    unreachable!()
                };
                if !n.arity.accepts(args.len()) {
                    return fail(Error::Arity {
                        name: n.name.clone(),
                        expected: n.arity.to_string(),
                        got: args.len(),
                    });
                }
                match self.start_each(hof, &n.name, args) {
                    Ok(step) => step,
                    Err(e) => fail(e),
                }
            }
            // The common case, without a future.
            Value::Native(n)
                if matches!(n.body, NativeBody::Sync(_)) && n.arity.accepts(args.len()) =>
            {
                let NativeBody::Sync(body) = &n.body else {
                    unreachable!()
                };
                Step::Return(body(self.interp, &args).map(Flow::Done))
            }
            _ => Step::Return(self.interp.apply_other(&f, args).await.map(Flow::Done)),
        }
    }

    /// Starts `map`, `filter`, … on checked arguments.
    fn start_each(&mut self, hof: Hof, name: &str, mut args: Vec<Value>) -> Result<Step, Error> {
        if hof == Hof::Apply {
            let last = args.pop().expect("arity checked");
            let f = args.remove(0);
            args.extend(elements(name, &last)?);
            return Ok(Step::Apply(f, args));
        }
        let f = args[0].clone();
        let (acc, colls) = match hof {
            Hof::Map => (
                None,
                args[1..]
                    .iter()
                    .map(|c| elements(name, c))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Hof::Reduce if args.len() == 3 => {
                (Some(args[1].clone()), vec![elements(name, &args[2])?])
            }
            Hof::Reduce => {
                let mut items = elements(name, &args[1])?;
                if items.is_empty() {
                    // (reduce f []) is (f), as in Clojure.
                    return Ok(Step::Apply(f, Vec::new()));
                }
                let first = items.remove(0);
                (Some(first), vec![items])
            }
            _ => (None, vec![elements(name, &args[1])?]),
        };
        let out = acc.into_iter().collect();
        Ok(self.next_each(hof, f, colls, 0, out))
    }

    /// Calls `f` on the `i`th elements, or finishes.
    fn next_each(
        &mut self,
        hof: Hof,
        f: Value,
        colls: Vec<Vec<Value>>,
        i: usize,
        out: Vec<Value>,
    ) -> Step {
        let n = colls.iter().map(Vec::len).min().unwrap_or(0);
        if i >= n {
            return done(match hof {
                Hof::Reduce => out.into_iter().next().unwrap_or(Value::Nil),
                Hof::Every => Value::Bool(true),
                Hof::Some => Value::Nil,
                _ => Value::list(out),
            });
        }
        let args = match hof {
            Hof::Map => colls.iter().map(|c| c[i].clone()).collect(),
            Hof::Reduce => vec![out[0].clone(), colls[0][i].clone()],
            _ => vec![colls[0][i].clone()],
        };
        let call = f.clone();
        if let Err(e) = self.push(Kont::Each {
            hof,
            f,
            colls,
            i,
            out,
        }) {
            return fail(e);
        }
        Step::Apply(call, args)
    }

    /// `f` returned `v` for the `i`th elements.
    fn resume_each(
        &mut self,
        hof: Hof,
        f: Value,
        colls: Vec<Vec<Value>>,
        i: usize,
        mut out: Vec<Value>,
        v: Value,
    ) -> Step {
        match hof {
            Hof::Map => out.push(v),
            Hof::Filter | Hof::Remove => {
                if v.truthy() == (hof == Hof::Filter) {
                    out.push(colls[0][i].clone());
                }
            }
            Hof::Reduce => out[0] = v,
            Hof::Every if !v.truthy() => return done(Value::Bool(false)),
            Hof::Some if v.truthy() => return done(v),
            Hof::Every | Hof::Some | Hof::Apply => {}
        }
        self.next_each(hof, f, colls, i + 1, out)
    }

    fn resume(&mut self, k: Kont, result: Result<Flow, Error>) -> Step {
        let v = match result {
            Ok(Flow::Done(v)) => v,
            Ok(Flow::Recur(vals)) => return self.recur(k, vals),
            Err(e) => return self.unwind(k, e),
        };
        match k {
            Kont::Body {
                list,
                pos,
                end,
                env,
                ctx,
            } => self.body(list, pos, end, env, ctx),
            Kont::Args {
                target,
                list,
                next,
                mut vals,
                env,
            } => {
                vals.push(v);
                self.args(target, list, next, vals, env)
            }
            Kont::If { list, env, ctx } => {
                let branch = if v.truthy() { list.get(2) } else { list.get(3) };
                match branch {
                    Some(b) => Step::Eval(b.clone(), env, ctx),
                    None => done(Value::Nil),
                }
            }
            Kont::Def { name, doc } => {
                let value = special::name_fn(v, &name, doc);
                self.interp.define(&name, value.clone());
                done(value)
            }
            Kont::Let {
                list,
                pairs,
                i,
                env,
                ctx,
            } => {
                let env = Frame::push(&env, vec![(special::binding_name(&pairs, i), v)]);
                let i = i + 2;
                if i < pairs.len() {
                    let expr = pairs[i + 1].clone();
                    let k = Kont::Let {
                        list,
                        pairs,
                        i,
                        env: env.clone(),
                        ctx,
                    };
                    self.then(k, &expr, env)
                } else {
                    let end = list.len();
                    self.body(list, 2, end, env, ctx)
                }
            }
            Kont::LoopInit {
                list,
                pairs,
                i,
                mut vals,
                env,
                outer,
            } => {
                let env = Frame::push(&env, vec![(special::binding_name(&pairs, i), v.clone())]);
                vals.push(v);
                let i = i + 2;
                if i < pairs.len() {
                    let expr = pairs[i + 1].clone();
                    let k = Kont::LoopInit {
                        list,
                        pairs,
                        i,
                        vals,
                        env: env.clone(),
                        outer,
                    };
                    self.then(k, &expr, env)
                } else {
                    self.start_loop(list, pairs, vals, outer)
                }
            }
            Kont::Loop { .. } | Kont::Fn { .. } => done(v),
            Kont::Throw => fail(Error::Thrown(v)),
            Kont::AndOr {
                list,
                next,
                env,
                ctx,
                and,
            } => {
                if v.truthy() != and {
                    return done(v);
                }
                if next + 1 == list.len() {
                    return Step::Eval(list[next].clone(), env, ctx);
                }
                let form = list[next].clone();
                let k = Kont::AndOr {
                    list,
                    next: next + 1,
                    env: env.clone(),
                    ctx,
                    and,
                };
                self.then(k, &form, env)
            }
            Kont::When {
                list,
                env,
                ctx,
                when,
            } => {
                if v.truthy() == when {
                    let end = list.len();
                    self.body(list, 2, end, env, ctx)
                } else {
                    done(Value::Nil)
                }
            }
            Kont::Cond { list, at, env, ctx } => {
                if v.truthy() {
                    return Step::Eval(list[at + 1].clone(), env, ctx);
                }
                let at = at + 2;
                if at >= list.len() {
                    return done(Value::Nil);
                }
                let test = list[at].clone();
                let k = Kont::Cond {
                    list,
                    at,
                    env: env.clone(),
                    ctx,
                };
                self.then(k, &test, env)
            }
            Kont::Try { parts, env } | Kont::Catch { parts, env } => {
                self.finish(Ok(Flow::Done(v)), &parts, env)
            }
            Kont::Finally { result } => Step::Return(result),
            Kont::Each {
                hof,
                f,
                colls,
                i,
                out,
            } => self.resume_each(hof, f, colls, i, out, v),
            Kont::Vector {
                items,
                next,
                mut out,
                env,
            } => {
                out.push(v);
                self.vector(items, next, out, env)
            }
            Kont::Map {
                entries,
                next,
                mut out,
                env,
            } => {
                out.push(v);
                self.map(entries, next, out, env)
            }
            Kont::Set {
                items,
                next,
                mut out,
                env,
            } => {
                out.insert(v);
                self.set(items, next, out, env)
            }
        }
    }

    /// `recur` arrived at frame `k`.
    fn recur(&mut self, k: Kont, vals: Vec<Value>) -> Step {
        match k {
            Kont::Loop { list, pairs, outer } => self.start_loop(list, pairs, vals, outer),
            Kont::Fn { lambda, clause } => self.enter(lambda, Some(clause), vals),
            // Tail position is checked where `recur` is evaluated, so only
            // its target can receive it.
            _ => fail(special::recur_misplaced()),
        }
    }

    /// An error arrived at frame `k`: only `try` frames stop it.
    fn unwind(&mut self, k: Kont, e: Error) -> Step {
        match k {
            Kont::Try { parts, env } => match &parts.catch {
                Some((name, handler)) if e.is_catchable() => {
                    let handler = handler.clone();
                    let catch_env = Frame::push(&env, vec![(name.clone(), e.to_value())]);
                    if let Err(e) = self.push(Kont::Catch { parts, env }) {
                        return fail(e);
                    }
                    let end = handler.list.len();
                    self.body(handler.list, handler.start, end, catch_env, Ctx::VALUE)
                }
                _ => self.finish(Err(e), &parts, env),
            },
            Kont::Catch { parts, env } => self.finish(Err(e), &parts, env),
            _ => fail(e),
        }
    }

    /// Runs `finally` (if any), then returns `result`; an error in
    /// `finally` wins.
    fn finish(&mut self, result: Result<Flow, Error>, parts: &TryParts, env: Env) -> Step {
        let Some(cleanup) = &parts.finally else {
            return Step::Return(result);
        };
        if let Err(e) = self.push(Kont::Finally { result }) {
            return fail(e);
        }
        let end = cleanup.list.len();
        self.body(cleanup.list.clone(), cleanup.start, end, env, Ctx::VALUE)
    }

    /// Evaluates the elements of a vector literal from `items[next]` on.
    fn vector(
        &mut self,
        items: Rc<Vec<Value>>,
        mut next: usize,
        mut out: Vec<Value>,
        env: Env,
    ) -> Step {
        while let Some(form) = items.get(next) {
            next += 1;
            match atom(self.interp, form, &env) {
                Some(Ok(v)) => out.push(v),
                Some(Err(e)) => return fail(e),
                None => {
                    let form = form.clone();
                    let k = Kont::Vector {
                        items,
                        next,
                        out,
                        env: env.clone(),
                    };
                    return self.then(k, &form, env);
                }
            }
        }
        done(Value::vector(out))
    }

    /// Evaluates the keys and values of a map literal, flattened.
    fn map(&mut self, entries: Vec<Value>, mut next: usize, mut out: Vec<Value>, env: Env) -> Step {
        while let Some(form) = entries.get(next) {
            next += 1;
            match atom(self.interp, form, &env) {
                Some(Ok(v)) => out.push(v),
                Some(Err(e)) => return fail(e),
                None => {
                    let form = form.clone();
                    let k = Kont::Map {
                        entries,
                        next,
                        out,
                        env: env.clone(),
                    };
                    return self.then(k, &form, env);
                }
            }
        }
        let mut map = BTreeMap::new();
        let mut it = out.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            map.insert(k, v);
        }
        done(Value::Map(Rc::new(map)))
    }

    fn set(
        &mut self,
        items: Vec<Value>,
        mut next: usize,
        mut out: BTreeSet<Value>,
        env: Env,
    ) -> Step {
        while let Some(form) = items.get(next) {
            next += 1;
            match atom(self.interp, form, &env) {
                Some(Ok(v)) => {
                    out.insert(v);
                }
                Some(Err(e)) => return fail(e),
                None => {
                    let form = form.clone();
                    let k = Kont::Set {
                        items,
                        next,
                        out,
                        env: env.clone(),
                    };
                    return self.then(k, &form, env);
                }
            }
        }
        done(Value::Set(Rc::new(out)))
    }
}

pub(super) fn missing_method(cap: &dyn Capability) -> Error {
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

/// Calls a native function with checked arity.
pub(super) async fn call_native(
    interp: &Interpreter,
    n: &crate::value::Native,
    args: Vec<Value>,
) -> Result<Value, Error> {
    if !n.arity.accepts(args.len()) {
        return Err(Error::Arity {
            name: n.name.clone(),
            expected: n.arity.to_string(),
            got: args.len(),
        });
    }
    match &n.body {
        NativeBody::Sync(body) => body(interp, &args),
        NativeBody::Async(body) => body(interp.clone(), args).await,
        NativeBody::Machine(_) => unreachable!("run by the machine"),
    }
}
