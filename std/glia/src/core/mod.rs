//! The core library: the functions every session starts with.
//!
//! One file per topic: [`math`] (arithmetic and comparison), [`coll`]
//! (collections), [`seq`] (functions that call functions: `map`, `filter`,
//! `reduce`, `apply`, run by the evaluation machine itself), [`string`],
//! [`bytes`], [`io`] (`println` and friends, written to the embedder's
//! output sink) and [`misc`] (`type`, `doc`, `ex-info`, …).
//! Each function carries a docstring, for `help`.

mod bytes;
mod coll;
mod io;
mod math;
mod misc;
mod seq;
mod string;

use crate::error::Error;
use crate::eval::Interpreter;
use crate::value::Value;

/// Binds the whole core library into `interp`.
pub(crate) fn install(interp: &Interpreter) {
    math::install(interp);
    coll::install(interp);
    seq::install(interp);
    string::install(interp);
    bytes::install(interp);
    io::install(interp);
    misc::install(interp);
}

/// The most elements a function may build in one go (`range`, `concat`),
/// so a typo cannot exhaust the cell's memory.
pub(crate) const MAX_ELEMENTS: usize = 1_000_000;

/// The elements of anything sequential: `nil` (none), lists, vectors, sets,
/// maps (as `[k v]` vectors), strings (one-character strings) and bytes
/// (integers 0-255).
pub(crate) fn elements(name: &str, v: &Value) -> Result<Vec<Value>, Error> {
    Ok(match v {
        Value::Nil => Vec::new(),
        Value::List(items) | Value::Vector(items) => items.to_vec(),
        Value::Set(items) => items.iter().cloned().collect(),
        Value::Map(map) => map
            .iter()
            .map(|(k, v)| Value::vector(vec![k.clone(), v.clone()]))
            .collect(),
        Value::Str(s) => s.chars().map(|c| Value::str(c.to_string())).collect(),
        Value::Bytes(b) => b.iter().map(|x| Value::Int(i64::from(*x))).collect(),
        other => return Err(Error::type_error(name, "a collection", other)),
    })
}

/// `(get coll key)` without a default: `None` when absent.
pub(crate) fn get(coll: &Value, key: &Value) -> Option<Value> {
    match (coll, key) {
        (Value::Map(map), k) => map.get(k).cloned(),
        (Value::Set(set), k) => set.get(k).cloned(),
        (Value::Vector(items), Value::Int(i)) => {
            usize::try_from(*i).ok().and_then(|i| items.get(i)).cloned()
        }
        (Value::Str(s), Value::Int(i)) => usize::try_from(*i)
            .ok()
            .and_then(|i| s.chars().nth(i))
            .map(|c| Value::str(c.to_string())),
        (Value::Bytes(b), Value::Int(i)) => usize::try_from(*i)
            .ok()
            .and_then(|i| b.get(i))
            .map(|x| Value::Int(i64::from(*x))),
        _ => None,
    }
}

pub(crate) fn int(name: &str, v: &Value) -> Result<i64, Error> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(Error::type_error(name, "an integer", other)),
    }
}

pub(crate) fn string<'a>(name: &str, v: &'a Value) -> Result<&'a str, Error> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(Error::type_error(name, "a string", other)),
    }
}

#[cfg(test)]
mod tests;
