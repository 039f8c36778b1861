//! Calls: a list whose head is not a special form evaluates its elements
//! and applies the first to the rest. A Glia `fn` is entered on the
//! machine (with a frame `recur` returns to); natives and capability
//! methods are awaited. `recur` evaluates its arguments the same way.

use std::rc::Rc;

use super::{atom, fail, special, Kont, Machine, Step};
use crate::cap::Capability;
use crate::env::{self, Env, Frame};
use crate::error::Error;
use crate::eval::{Ctx, Flow, Interpreter};
use crate::value::{Lambda, NativeBody, Value};

/// What to do with the arguments once a call's elements are evaluated.
enum Target {
    Call,
    Cap(Rc<dyn Capability>, Rc<str>),
    Recur,
}

/// The elements of a call (or `recur`): `vals` so far, `list[next..]` to
/// go.
pub(super) struct Args {
    target: Target,
    list: Rc<Vec<Value>>,
    next: usize,
    vals: Vec<Value>,
    env: Env,
}

/// Where `recur` in a function body returns.
pub(super) struct FnFrame {
    lambda: Rc<Lambda>,
    clause: usize,
}

impl Machine<'_> {
    /// Evaluates a non-empty list: a special form, or a call.
    pub(super) fn eval_list(&mut self, list: Rc<Vec<Value>>, env: Env, ctx: Ctx) -> Step {
        let Value::Symbol(name) = &list[0] else {
            // `((fn [x] x) 1)`, `({:a 1} :a)`: evaluate the head like an
            // argument.
            let head = list[0].clone();
            let k = Kont::Args(Args {
                target: Target::Call,
                vals: Vec::with_capacity(list.len()),
                list,
                next: 1,
                env: env.clone(),
            });
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
                    let k = Kont::Args(Args {
                        target,
                        list,
                        next,
                        vals,
                        env: env.clone(),
                    });
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

    pub(super) fn resume_args(&mut self, k: Args, v: Value) -> Step {
        let Args {
            target,
            list,
            next,
            mut vals,
            env,
        } = k;
        vals.push(v);
        self.args(target, list, next, vals, env)
    }

    /// `recur`: checked to be in tail position with the target's arity,
    /// its values go back through the frames to the `Loop` or `Fn` one.
    pub(super) fn eval_recur(
        &mut self,
        list: Rc<Vec<Value>>,
        env: Env,
        ctx: Ctx,
    ) -> Result<Step, Error> {
        let n = list.len() - 1;
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
        Ok(self.args(Target::Recur, list, 1, Vec::with_capacity(n), env))
    }

    /// `recur` in a function body: enter the same arity again.
    pub(super) fn recur_fn(&mut self, k: FnFrame, vals: Vec<Value>) -> Step {
        self.enter(k.lambda, Some(k.clause), vals)
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
        while matches!(self.stack.last(), Some(Kont::Fn(_) | Kont::Loop(_))) {
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
        if let Err(e) = self.push(Kont::Fn(FnFrame {
            lambda: lambda.clone(),
            clause: index,
        })) {
            return fail(e);
        }
        let end = body.len();
        self.body(body, 0, end, env, Ctx::body(arity))
    }

    /// Calls `f`; natives and capabilities are awaited here.
    pub(super) async fn apply(&mut self, f: Value, args: Vec<Value>) -> Step {
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
}

/// The error for a capability named without a method.
pub(in crate::eval) fn missing_method(cap: &dyn Capability) -> Error {
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
pub(in crate::eval) async fn call_native(
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
