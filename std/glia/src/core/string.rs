//! Strings. Indices count characters, not bytes. `split` splits on a
//! literal separator (Glia has no regular expressions).

use super::{elements, int, string};
use crate::error::Error;
use crate::eval::Interpreter;
use crate::printer::{pr_str, print_str};
use crate::value::{Arity, Value};

/// `(str x …)`: nil is the empty string, strings are their text, the rest
/// print readably.
pub(crate) fn str_of(args: &[Value]) -> String {
    let mut out = String::new();
    for a in args {
        if !matches!(a, Value::Nil) {
            out.push_str(&print_str(a));
        }
    }
    out
}

fn subs(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let s = string("subs", &args[0])?;
    let len = s.chars().count();
    let start = int("subs", &args[1])?;
    let end = match args.get(2) {
        Some(e) => int("subs", e)?,
        None => len as i64,
    };
    let in_range = |i: i64| usize::try_from(i).ok().filter(|i| *i <= len);
    match (in_range(start), in_range(end)) {
        (Some(a), Some(b)) if a <= b => Ok(Value::str(
            s.chars().skip(a).take(b - a).collect::<String>(),
        )),
        (Some(_), Some(_)) | (Some(_), None) => Err(Error::Index { index: end, len }),
        (None, _) => Err(Error::Index { index: start, len }),
    }
}

fn split(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let s = string("split", &args[0])?;
    let sep = string("split", &args[1])?;
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::str(c.to_string())).collect()
    } else {
        s.split(sep).map(Value::str).collect()
    };
    Ok(Value::vector(parts))
}

fn join(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let (sep, coll) = match args {
        [coll] => ("", coll),
        [sep, coll] => (string("join", sep)?, coll),
        _ => unreachable!("arity checked"),
    };
    let parts: Vec<String> = elements("join", coll)?
        .iter()
        .map(|v| str_of(std::slice::from_ref(v)))
        .collect();
    Ok(Value::str(parts.join(sep)))
}

fn string_fn(i: &Interpreter, name: &'static str, doc: &str, f: fn(&str) -> Value) {
    i.define_fn(name, doc, Arity::exactly(1), move |_, a| {
        Ok(f(string(name, &a[0])?))
    });
}

fn string_test(i: &Interpreter, name: &'static str, doc: &str, f: fn(&str, &str) -> bool) {
    i.define_fn(name, doc, Arity::exactly(2), move |_, a| {
        Ok(Value::Bool(f(string(name, &a[0])?, string(name, &a[1])?)))
    });
}

pub(super) fn install(i: &Interpreter) {
    i.define_fn(
        "str",
        "(str x …): the arguments' text joined: strings as they are, nil as nothing, other values printed.",
        Arity::at_least(0),
        |_, a| Ok(Value::str(str_of(a))),
    );
    i.define_fn(
        "pr-str",
        "(pr-str x …): the arguments printed readably (strings quoted), separated by spaces.",
        Arity::at_least(0),
        |_, a| {
            Ok(Value::str(
                a.iter().map(pr_str).collect::<Vec<_>>().join(" "),
            ))
        },
    );
    i.define_fn(
        "subs",
        "(subs s start end?): the characters of s from start up to, not including, end.",
        Arity::between(2, 3),
        subs,
    );
    i.define_fn(
        "split",
        "(split s sep): a vector of the parts of s between occurrences of the string sep.",
        Arity::exactly(2),
        split,
    );
    i.define_fn(
        "join",
        "(join sep? coll): the elements' text joined with sep (default none).",
        Arity::between(1, 2),
        join,
    );
    string_fn(i, "upper-case", "(upper-case s): s in upper case.", |s| {
        Value::str(s.to_uppercase())
    });
    string_fn(i, "lower-case", "(lower-case s): s in lower case.", |s| {
        Value::str(s.to_lowercase())
    });
    string_fn(
        i,
        "trim",
        "(trim s): s without leading and trailing whitespace.",
        |s| Value::str(s.trim()),
    );
    string_test(
        i,
        "starts-with?",
        "(starts-with? s prefix): true if s begins with prefix.",
        |s, p| s.starts_with(p),
    );
    string_test(
        i,
        "ends-with?",
        "(ends-with? s suffix): true if s ends with suffix.",
        |s, p| s.ends_with(p),
    );
    string_test(
        i,
        "includes?",
        "(includes? s sub): true if s contains sub.",
        |s, p| s.contains(p),
    );
}
