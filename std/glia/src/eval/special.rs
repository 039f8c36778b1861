//! Special forms: the syntax the evaluator knows by name.
//!
//! `quote`, `if`, `do`, `def`, `defn`, `fn`, `let`, `loop`, `recur`,
//! `try` (with `catch` and `finally`), `throw`, and the short-circuiting
//! `and`, `or`, `when`, `when-not`, `cond`. Their names cannot be rebound.

use std::rc::Rc;

use super::{Ctx, Flow, FlowFuture, Interpreter};
use crate::env::{Env, Frame};
use crate::error::Error;
use crate::value::{Clause, Lambda, Value};

/// A special form.
#[derive(Clone, Copy)]
pub(crate) enum Form {
    Quote,
    If,
    Do,
    Def,
    Defn,
    Fn,
    Let,
    Loop,
    Recur,
    Try,
    Throw,
    And,
    Or,
    When,
    WhenNot,
    Cond,
}

/// The special form named `name`, if it is one.
pub(crate) fn lookup(name: &str) -> Option<Form> {
    Some(match name {
        "quote" => Form::Quote,
        "if" => Form::If,
        "do" => Form::Do,
        "def" => Form::Def,
        "defn" => Form::Defn,
        "fn" => Form::Fn,
        "let" => Form::Let,
        "loop" => Form::Loop,
        "recur" => Form::Recur,
        "try" => Form::Try,
        "throw" => Form::Throw,
        "and" => Form::And,
        "or" => Form::Or,
        "when" => Form::When,
        "when-not" => Form::WhenNot,
        "cond" => Form::Cond,
        _ => return None,
    })
}

pub(crate) fn recur_misplaced() -> Error {
    Error::syntax(
        "recur",
        "it must be in tail position of a `loop` or `fn` (and not inside `try`)",
    )
}

fn done(v: Value) -> Result<Flow, Error> {
    Ok(Flow::Done(v))
}

/// Evaluates the special form `form`; `items[0]` is its name.
///
/// Each form is its own boxed future, so polling one costs only that
/// form's stack frame (one big `match` would make every level of nesting
/// pay for the largest form).
pub(crate) fn eval<'a>(
    interp: &'a Interpreter,
    form: Form,
    items: &'a [Value],
    env: &'a Env,
    ctx: Ctx,
) -> FlowFuture<'a> {
    let args = &items[1..];
    match form {
        Form::Quote => Box::pin(std::future::ready(match args {
            [x] => Ok(Flow::Done(x.clone())),
            _ => Err(Error::syntax("quote", "takes one form: (quote x) or 'x")),
        })),
        Form::If => Box::pin(eval_if(interp, args, env, ctx)),
        Form::Do => Box::pin(interp.eval_body(args, env, ctx)),
        Form::Def => Box::pin(eval_def(interp, args, env)),
        Form::Defn => Box::pin(std::future::ready(eval_defn(interp, args, env))),
        Form::Fn => Box::pin(std::future::ready(eval_fn(args, env))),
        Form::Let => Box::pin(eval_let(interp, args, env, ctx)),
        Form::Loop => Box::pin(eval_loop(interp, args, env)),
        Form::Recur => Box::pin(eval_recur(interp, args, env, ctx)),
        Form::Try => Box::pin(eval_try(interp, args, env)),
        Form::Throw => Box::pin(eval_throw(interp, args, env)),
        Form::And | Form::Or => Box::pin(eval_and_or(interp, form, args, env, ctx)),
        Form::When | Form::WhenNot => Box::pin(eval_when(interp, form, args, env, ctx)),
        Form::Cond => Box::pin(eval_cond(interp, args, env, ctx)),
    }
}

async fn eval_if(interp: &Interpreter, args: &[Value], env: &Env, ctx: Ctx) -> Result<Flow, Error> {
    let (test, then, otherwise) = match args {
        [t, a] => (t, a, None),
        [t, a, b] => (t, a, Some(b)),
        _ => {
            return Err(Error::syntax(
                "if",
                "takes a test and one or two branches: (if test then else)",
            ))
        }
    };
    if interp.value(test, env).await?.truthy() {
        interp.eval_in(then, env, ctx).await
    } else if let Some(b) = otherwise {
        interp.eval_in(b, env, ctx).await
    } else {
        done(Value::Nil)
    }
}

async fn eval_def(interp: &Interpreter, args: &[Value], env: &Env) -> Result<Flow, Error> {
    let (name, doc, expr) = match args {
        [Value::Symbol(n)] => (n, None, None),
        [Value::Symbol(n), e] => (n, None, Some(e)),
        [Value::Symbol(n), Value::Str(d), e] => (n, Some(d.clone()), Some(e)),
        _ => {
            return Err(Error::syntax(
                "def",
                "(def name value) or (def name \"doc\" value)",
            ))
        }
    };
    let value = match expr {
        Some(e) => name_fn(interp.value(e, env).await?, name, doc),
        None => Value::Nil,
    };
    interp.define(name, value.clone());
    done(value)
}

fn eval_defn(interp: &Interpreter, args: &[Value], env: &Env) -> Result<Flow, Error> {
    let Some(Value::Symbol(name)) = args.first() else {
        return Err(Error::syntax("defn", "(defn name \"doc\"? [params] body…)"));
    };
    let (doc, rest) = match &args[1..] {
        [Value::Str(d), rest @ ..] if !rest.is_empty() => (Some(d.clone()), rest),
        rest => (None, rest),
    };
    let clauses = clauses("defn", rest)?;
    let f = Value::Fn(Rc::new(Lambda {
        name: Some(name.clone()),
        doc,
        clauses: Rc::new(clauses),
        env: env.clone(),
        self_bind: false,
    }));
    interp.define(name, f.clone());
    done(f)
}

fn eval_fn(args: &[Value], env: &Env) -> Result<Flow, Error> {
    let (name, rest) = match args {
        [Value::Symbol(n), rest @ ..] => (Some(n.clone()), rest),
        rest => (None, rest),
    };
    let clauses = clauses("fn", rest)?;
    done(Value::Fn(Rc::new(Lambda {
        self_bind: name.is_some(),
        name,
        doc: None,
        clauses: Rc::new(clauses),
        env: env.clone(),
    })))
}

async fn eval_let(
    interp: &Interpreter,
    args: &[Value],
    env: &Env,
    ctx: Ctx,
) -> Result<Flow, Error> {
    let (names, exprs) = bindings("let", args)?;
    let mut env = env.clone();
    for (name, expr) in names.into_iter().zip(exprs) {
        let v = interp.value(expr, &env).await?;
        env = Frame::push(&env, vec![(name, v)]);
    }
    interp.eval_body(&args[1..], &env, ctx).await
}

async fn eval_loop(interp: &Interpreter, args: &[Value], env: &Env) -> Result<Flow, Error> {
    let (names, exprs) = bindings("loop", args)?;
    let mut values = Vec::with_capacity(names.len());
    {
        // Initial values see the earlier bindings, as in `let`.
        let mut init = env.clone();
        for (name, expr) in names.iter().zip(exprs) {
            let v = interp.value(expr, &init).await?;
            init = Frame::push(&init, vec![(name.clone(), v.clone())]);
            values.push(v);
        }
    }
    let body = &args[1..];
    loop {
        let vars = names.iter().cloned().zip(values).collect();
        let frame = Frame::push(env, vars);
        match interp
            .eval_body(body, &frame, Ctx::body(names.len()))
            .await?
        {
            Flow::Done(v) => return done(v),
            Flow::Recur(next) => values = next,
        }
    }
}

async fn eval_recur(
    interp: &Interpreter,
    args: &[Value],
    env: &Env,
    ctx: Ctx,
) -> Result<Flow, Error> {
    let (true, Some(arity)) = (ctx.tail, ctx.recur) else {
        return Err(recur_misplaced());
    };
    if args.len() != arity {
        return Err(Error::Arity {
            name: "recur".into(),
            expected: arity.to_string(),
            got: args.len(),
        });
    }
    let mut values = Vec::with_capacity(arity);
    for arg in args {
        values.push(interp.value(arg, env).await?);
    }
    Ok(Flow::Recur(values))
}

async fn eval_throw(interp: &Interpreter, args: &[Value], env: &Env) -> Result<Flow, Error> {
    match args {
        [x] => Err(Error::Thrown(interp.value(x, env).await?)),
        _ => Err(Error::syntax(
            "throw",
            "takes one value: (throw (ex-info \"message\" {}))",
        )),
    }
}

async fn eval_and_or(
    interp: &Interpreter,
    form: Form,
    args: &[Value],
    env: &Env,
    ctx: Ctx,
) -> Result<Flow, Error> {
    let and = matches!(form, Form::And);
    let Some((last, init)) = args.split_last() else {
        return done(if and { Value::Bool(true) } else { Value::Nil });
    };
    for expr in init {
        let v = interp.value(expr, env).await?;
        if v.truthy() != and {
            return done(v);
        }
    }
    interp.eval_in(last, env, ctx).await
}

async fn eval_when(
    interp: &Interpreter,
    form: Form,
    args: &[Value],
    env: &Env,
    ctx: Ctx,
) -> Result<Flow, Error> {
    let Some(test) = args.first() else {
        return Err(Error::syntax("when", "(when test body…)"));
    };
    if interp.value(test, env).await?.truthy() == matches!(form, Form::When) {
        interp.eval_body(&args[1..], env, ctx).await
    } else {
        done(Value::Nil)
    }
}

async fn eval_cond(
    interp: &Interpreter,
    args: &[Value],
    env: &Env,
    ctx: Ctx,
) -> Result<Flow, Error> {
    if !args.len().is_multiple_of(2) {
        return Err(Error::syntax(
            "cond",
            "takes test/expression pairs: (cond t1 e1 t2 e2 :else e)",
        ));
    }
    for pair in args.chunks(2) {
        if interp.value(&pair[0], env).await?.truthy() {
            return interp.eval_in(&pair[1], env, ctx).await;
        }
    }
    done(Value::Nil)
}

/// Gives an anonymous function the name (and doc) it is defined under.
fn name_fn(value: Value, name: &Rc<str>, doc: Option<Rc<str>>) -> Value {
    match &value {
        Value::Fn(f) if f.name.is_none() || doc.is_some() => Value::Fn(Rc::new(Lambda {
            name: Some(f.name.clone().unwrap_or_else(|| name.clone())),
            doc: doc.or_else(|| f.doc.clone()),
            clauses: f.clauses.clone(),
            env: f.env.clone(),
            self_bind: f.self_bind,
        })),
        _ => value,
    }
}

/// The `[name expr …]` vector of `let` and `loop`.
fn bindings<'a>(form: &str, args: &'a [Value]) -> Result<(Vec<Rc<str>>, Vec<&'a Value>), Error> {
    let usage = format!("({form} [name value …] body…)");
    let Some(Value::Vector(pairs)) = args.first() else {
        return Err(Error::syntax(form, usage));
    };
    if !pairs.len().is_multiple_of(2) {
        return Err(Error::syntax(
            form,
            format!("bindings need a value for every name: {usage}"),
        ));
    }
    let mut names = Vec::with_capacity(pairs.len() / 2);
    let mut exprs = Vec::with_capacity(pairs.len() / 2);
    for pair in pairs.chunks(2) {
        match &pair[0] {
            Value::Symbol(name) => names.push(name.clone()),
            other => {
                return Err(Error::syntax(
                    form,
                    format!(
                    "a binding name must be a symbol, not {other} (destructuring is not supported)"
                ),
                ))
            }
        }
        exprs.push(&pair[1]);
    }
    Ok((names, exprs))
}

/// `[params] body…` or `([params] body…)+`.
fn clauses(form: &str, rest: &[Value]) -> Result<Vec<Clause>, Error> {
    match rest.first() {
        Some(Value::Vector(params)) => Ok(vec![clause(form, params, &rest[1..])?]),
        Some(Value::List(_)) => rest
            .iter()
            .map(|c| match c {
                Value::List(items) => match items.first() {
                    Some(Value::Vector(params)) => clause(form, params, &items[1..]),
                    _ => Err(Error::syntax(form, "each arity is ([params] body…)")),
                },
                _ => Err(Error::syntax(form, "each arity is ([params] body…)")),
            })
            .collect(),
        _ => Err(Error::syntax(
            form,
            format!("({form} name? [params] body…) or ({form} name? ([params] body…) …)"),
        )),
    }
}

fn clause(form: &str, params: &[Value], body: &[Value]) -> Result<Clause, Error> {
    let mut names = Vec::with_capacity(params.len());
    let mut rest = None;
    let mut iter = params.iter();
    while let Some(p) = iter.next() {
        match p {
            Value::Symbol(s) if &**s == "&" => match (iter.next(), iter.next()) {
                (Some(Value::Symbol(r)), None) => rest = Some(r.clone()),
                _ => {
                    return Err(Error::syntax(
                        form,
                        "`&` must be followed by exactly one name: [a b & more]",
                    ))
                }
            },
            Value::Symbol(s) => names.push(s.clone()),
            other => {
                return Err(Error::syntax(
                    form,
                    format!(
                    "a parameter must be a symbol, not {other} (destructuring is not supported)"
                ),
                ))
            }
        }
    }
    Ok(Clause {
        params: names,
        rest,
        body: body.to_vec(),
    })
}

fn is_clause(form: &Value, head: &str) -> bool {
    matches!(form, Value::List(items) if matches!(items.first(), Some(Value::Symbol(s)) if &**s == head))
}

/// `(try body… (catch e handler…) (finally cleanup…))`; `catch` also
/// accepts a class-like tag first, `(catch Exception e …)` or
/// `(catch :default e …)`, which is ignored: it catches everything but
/// `exit`.
async fn eval_try(interp: &Interpreter, args: &[Value], env: &Env) -> Result<Flow, Error> {
    let split = args
        .iter()
        .position(|f| is_clause(f, "catch") || is_clause(f, "finally"))
        .unwrap_or(args.len());
    let (body, clauses) = args.split_at(split);
    let mut catch = None;
    let mut finally = None;
    for (i, c) in clauses.iter().enumerate() {
        let Value::List(items) = c else {
            return Err(Error::syntax(
                "try",
                "only `catch` and `finally` may follow the body",
            ));
        };
        if is_clause(c, "finally") {
            if i + 1 != clauses.len() {
                return Err(Error::syntax("try", "`finally` must come last"));
            }
            finally = Some(&items[1..]);
        } else if is_clause(c, "catch") {
            if catch.is_some() {
                return Err(Error::syntax("try", "only one `catch` is supported"));
            }
            let tagged = match items.get(1) {
                Some(Value::Keyword(_)) => true,
                Some(Value::Symbol(s)) => {
                    s.starts_with(|c: char| c.is_ascii_uppercase()) && items.len() >= 3
                }
                _ => false,
            };
            let at = if tagged { 2 } else { 1 };
            let Some(Value::Symbol(name)) = items.get(at) else {
                return Err(Error::syntax("try", "(catch e handler…)"));
            };
            catch = Some((name.clone(), &items[at + 1..]));
        } else {
            return Err(Error::syntax(
                "try",
                "only `catch` and `finally` may follow the body",
            ));
        }
    }
    let result = match interp.eval_body(body, env, Ctx::VALUE).await {
        Err(e) if e.is_catchable() && catch.is_some() => {
            let (name, handler) = catch.expect("checked");
            let env = Frame::push(env, vec![(name, e.to_value())]);
            interp.eval_body(handler, &env, Ctx::VALUE).await
        }
        other => other,
    };
    if let Some(cleanup) = finally {
        interp.eval_body(cleanup, env, Ctx::VALUE).await?;
    }
    result
}
