//! Special forms: the syntax the evaluator knows by name, and the checks
//! of how each is written.
//!
//! `quote`, `if`, `do`, `def`, `defn`, `fn`, `let`, `loop`, `recur`,
//! `try` (with `catch` and `finally`), `throw`, and the short-circuiting
//! `and`, `or`, `when`, `when-not`, `cond`. Their names cannot be rebound.
//! How they evaluate is in [`super::machine`], one file per family of
//! forms.

use std::rc::Rc;

use crate::env::Env;
use crate::error::Error;
use crate::value::{Clause, Lambda, Value};

/// A special form.
#[derive(Clone, Copy, PartialEq, Eq)]
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

/// Checks the argument count of a fixed-shape form.
pub(crate) fn expect(form: &str, ok: bool, usage: &str) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::syntax(form, usage))
    }
}

/// The parts of `(def name "doc"? value?)`.
pub(crate) struct DefParts {
    pub(crate) name: Rc<str>,
    pub(crate) doc: Option<Rc<str>>,
    /// Where the value expression is in the list, if there is one.
    pub(crate) expr: Option<usize>,
}

/// Parses `def`.
pub(crate) fn def_parts(list: &[Value]) -> Result<DefParts, Error> {
    let parts = |name: &Rc<str>, doc: Option<&Rc<str>>, expr| DefParts {
        name: name.clone(),
        doc: doc.cloned(),
        expr,
    };
    match &list[1..] {
        [Value::Symbol(n)] => Ok(parts(n, None, None)),
        [Value::Symbol(n), _] => Ok(parts(n, None, Some(2))),
        [Value::Symbol(n), Value::Str(d), _] => Ok(parts(n, Some(d), Some(3))),
        _ => Err(Error::syntax(
            "def",
            "(def name value) or (def name \"doc\" value)",
        )),
    }
}

/// Gives an anonymous function the name (and doc) it is defined under.
pub(crate) fn name_fn(value: Value, name: &Rc<str>, doc: Option<Rc<str>>) -> Value {
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

/// `(defn name "doc"? …)`: defines and returns the function.
pub(crate) fn defn(list: &[Value], env: &Env) -> Result<(Rc<str>, Value), Error> {
    let args = &list[1..];
    let Some(Value::Symbol(name)) = args.first() else {
        return Err(Error::syntax("defn", "(defn name \"doc\"? [params] body…)"));
    };
    let (doc, rest) = match &args[1..] {
        [Value::Str(d), rest @ ..] if !rest.is_empty() => (Some(d.clone()), rest),
        rest => (None, rest),
    };
    let f = Value::Fn(Rc::new(Lambda {
        name: Some(name.clone()),
        doc,
        clauses: Rc::new(clauses("defn", rest)?),
        env: env.clone(),
        self_bind: false,
    }));
    Ok((name.clone(), f))
}

/// `(fn name? …)`.
pub(crate) fn lambda(list: &[Value], env: &Env) -> Result<Value, Error> {
    let (name, rest) = match &list[1..] {
        [Value::Symbol(n), rest @ ..] => (Some(n.clone()), rest),
        rest => (None, rest),
    };
    let clauses = clauses("fn", rest)?;
    Ok(Value::Fn(Rc::new(Lambda {
        self_bind: name.is_some(),
        name,
        doc: None,
        clauses: Rc::new(clauses),
        env: env.clone(),
    })))
}

/// The `[name expr …]` vector of `let` and `loop`, checked: names are
/// symbols, every name has a value.
pub(crate) fn bindings(form: &str, list: &[Value]) -> Result<Rc<Vec<Value>>, Error> {
    let usage = format!("({form} [name value …] body…)");
    let Some(Value::Vector(pairs)) = list.get(1) else {
        return Err(Error::syntax(form, usage));
    };
    if !pairs.len().is_multiple_of(2) {
        return Err(Error::syntax(
            form,
            format!("bindings need a value for every name: {usage}"),
        ));
    }
    for pair in pairs.chunks(2) {
        if !matches!(pair[0], Value::Symbol(_)) {
            return Err(Error::syntax(
                form,
                format!(
                    "a binding name must be a symbol, not {} (destructuring is not supported)",
                    pair[0]
                ),
            ));
        }
    }
    Ok(pairs.clone())
}

/// The name bound by the binding pair starting at `i`.
pub(crate) fn binding_name(pairs: &[Value], i: usize) -> Rc<str> {
    match &pairs[i] {
        Value::Symbol(s) => s.clone(),
        _ => unreachable!("checked by `bindings`"),
    }
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
        body: Rc::new(body.to_vec()),
    })
}

fn is_clause(form: &Value, head: &str) -> bool {
    matches!(form, Value::List(items) if matches!(items.first(), Some(Value::Symbol(s)) if &**s == head))
}

/// A run of forms inside a list: `list[start..]`.
#[derive(Clone)]
pub(crate) struct Forms {
    pub(crate) list: Rc<Vec<Value>>,
    pub(crate) start: usize,
}

/// The parts of `(try body… (catch e handler…) (finally cleanup…))`.
pub(crate) struct TryParts {
    /// The body is `list[1..body_end]`.
    pub(crate) body_end: usize,
    pub(crate) catch: Option<(Rc<str>, Forms)>,
    pub(crate) finally: Option<Forms>,
}

/// Parses `try`. `catch` also accepts a class-like tag first,
/// `(catch Exception e …)` or `(catch :default e …)`, which is ignored: it
/// catches everything but `exit`.
pub(crate) fn try_parts(list: &[Value]) -> Result<TryParts, Error> {
    let body_end = list
        .iter()
        .skip(1)
        .position(|f| is_clause(f, "catch") || is_clause(f, "finally"))
        .map_or(list.len(), |p| p + 1);
    let clauses = &list[body_end..];
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
            finally = Some(Forms {
                list: items.clone(),
                start: 1,
            });
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
            catch = Some((
                name.clone(),
                Forms {
                    list: items.clone(),
                    start: at + 1,
                },
            ));
        } else {
            return Err(Error::syntax(
                "try",
                "only `catch` and `finally` may follow the body",
            ));
        }
    }
    Ok(TryParts {
        body_end,
        catch,
        finally,
    })
}
