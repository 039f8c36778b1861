//! Everything else: `type`, `doc`, predicates, `identity`, and the
//! `ex-info` family that `throw` and `catch` use.

use crate::error::Error;
use crate::eval::Interpreter;
use crate::value::{Arity, Value};

fn ex_info(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let message = super::string("ex-info", &args[0])?;
    let data = args.get(1).cloned().unwrap_or(Value::Nil);
    if !matches!(data, Value::Map(_) | Value::Nil) {
        return Err(Error::type_error("ex-info", "a map", &data));
    }
    Ok(Value::map([
        (Value::keyword("message"), Value::str(message)),
        (Value::keyword("data"), data),
    ]))
}

fn field(v: &Value, key: &str) -> Value {
    super::get(v, &Value::keyword(key)).unwrap_or(Value::Nil)
}

fn predicate(i: &Interpreter, name: &str, doc: &str, test: fn(&Value) -> bool) {
    i.define_fn(name, doc, Arity::exactly(1), move |_, a| {
        Ok(Value::Bool(test(&a[0])))
    });
}

pub(super) fn install(i: &Interpreter) {
    let one = Arity::exactly(1);
    i.define_fn(
        "type",
        "(type x): x's kind as a keyword: :nil :bool :int :float :string :bytes :keyword :symbol :list :vector :map :set :fn :cap.",
        one,
        |_, a| Ok(Value::keyword(a[0].type_name())),
    );
    i.define_fn(
        "doc",
        "(doc f): the docstring of a function or capability, or nil.",
        one,
        |_, a| Ok(a[0].doc().map(Value::from).unwrap_or(Value::Nil)),
    );
    i.define_fn("identity", "(identity x): x.", one, |_, a| Ok(a[0].clone()));
    i.define_fn(
        "ex-info",
        "(ex-info message data?): an error value to throw: {:message message :data data}.",
        Arity::between(1, 2),
        ex_info,
    );
    i.define_fn(
        "ex-message",
        "(ex-message e): the :message of a caught error.",
        one,
        |_, a| Ok(field(&a[0], "message")),
    );
    i.define_fn(
        "ex-data",
        "(ex-data e): the :data of a caught error thrown with ex-info.",
        one,
        |_, a| Ok(field(&a[0], "data")),
    );
    i.define_fn(
        "keyword",
        "(keyword s): the keyword named s.",
        one,
        |_, a| match &a[0] {
            Value::Keyword(_) => Ok(a[0].clone()),
            Value::Str(s) | Value::Symbol(s) => Ok(Value::keyword(s)),
            other => Err(Error::type_error("keyword", "a string", other)),
        },
    );
    i.define_fn(
        "name",
        "(name x): the name of a keyword or symbol, or the string itself.",
        one,
        |_, a| match &a[0] {
            Value::Str(s) | Value::Symbol(s) | Value::Keyword(s) => Ok(Value::str(s)),
            other => Err(Error::type_error(
                "name",
                "a keyword, symbol or string",
                other,
            )),
        },
    );
    predicate(i, "nil?", "(nil? x): true if x is nil.", |v| {
        matches!(v, Value::Nil)
    });
    predicate(i, "some?", "(some? x): true if x is not nil.", |v| {
        !matches!(v, Value::Nil)
    });
    predicate(
        i,
        "number?",
        "(number? x): true for integers and floats.",
        |v| matches!(v, Value::Int(_) | Value::Float(_)),
    );
    predicate(i, "int?", "(int? x): true for integers.", |v| {
        matches!(v, Value::Int(_))
    });
    predicate(i, "string?", "(string? x): true for strings.", |v| {
        matches!(v, Value::Str(_))
    });
    predicate(i, "keyword?", "(keyword? x): true for keywords.", |v| {
        matches!(v, Value::Keyword(_))
    });
    predicate(i, "map?", "(map? x): true for maps.", |v| {
        matches!(v, Value::Map(_))
    });
    predicate(i, "vector?", "(vector? x): true for vectors.", |v| {
        matches!(v, Value::Vector(_))
    });
    predicate(i, "fn?", "(fn? x): true for functions.", |v| {
        matches!(v, Value::Fn(_) | Value::Native(_))
    });
    predicate(i, "cap?", "(cap? x): true for capabilities.", |v| {
        matches!(v, Value::Cap(_))
    });
}
