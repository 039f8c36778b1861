//! Glia's values: immutable data, functions and capabilities.
//!
//! Collections are reference-counted and copied on write: `conj` on a vector
//! that nothing else holds pushes in place, on a shared one it copies. That is
//! "persistent enough" for a shell; a structure-sharing vector is a later
//! optimisation that would not change this API.
//!
//! Equality follows Clojure where it is cheap: lists and vectors with equal
//! elements are equal, `1` and `1.0` are not (`==` compares numbers across
//! types). Values are totally ordered (by kind, then by content) so maps and
//! sets are sorted and print the same way every time.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::rc::Rc;

use crate::cap::Capability;
use crate::env::Env;
use crate::error::Error;
use crate::eval::Interpreter;

/// What a capability call or an async native function returns: a future
/// that is not `Send` (everything in a cell runs on one thread).
pub type ValueFuture = Pin<Box<dyn Future<Output = Result<Value, Error>>>>;

/// A Glia value.
#[derive(Clone)]
pub enum Value {
    /// `nil`.
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// A 64-bit integer; arithmetic that overflows is an error.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// An immutable string.
    Str(Rc<str>),
    /// Immutable bytes (a Cap'n Proto `Data`): never text, whatever they
    /// hold, so a key and a string that look alike stay apart. Written
    /// `#bytes "0a ff"`.
    Bytes(Rc<[u8]>),
    /// A keyword, stored without its leading `:`.
    Keyword(Rc<str>),
    /// A symbol.
    Symbol(Rc<str>),
    /// A list `(a b c)`.
    List(Rc<Vec<Value>>),
    /// A vector `[a b c]`.
    Vector(Rc<Vec<Value>>),
    /// A map `{k v}`, sorted by key.
    Map(Rc<BTreeMap<Value, Value>>),
    /// A set `#{a b}`, sorted.
    Set(Rc<BTreeSet<Value>>),
    /// A function written in Glia (`fn`, `defn`).
    Fn(Rc<Lambda>),
    /// A function written in Rust: the core library's or the embedder's.
    Native(Rc<Native>),
    /// A capability: `(cap method args…)` calls it.
    Cap(Rc<dyn Capability>),
}

impl Value {
    /// A string value.
    pub fn str(s: impl AsRef<str>) -> Value {
        Value::Str(Rc::from(s.as_ref()))
    }

    /// A bytes value.
    pub fn bytes(b: impl AsRef<[u8]>) -> Value {
        Value::Bytes(Rc::from(b.as_ref()))
    }

    /// A keyword value (`name` without the `:`).
    pub fn keyword(name: impl AsRef<str>) -> Value {
        Value::Keyword(Rc::from(name.as_ref()))
    }

    /// A symbol value.
    pub fn symbol(name: impl AsRef<str>) -> Value {
        Value::Symbol(Rc::from(name.as_ref()))
    }

    /// A list of `items`.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    /// A vector of `items`.
    pub fn vector(items: Vec<Value>) -> Value {
        Value::Vector(Rc::new(items))
    }

    /// A map from `(key, value)` pairs; a later duplicate key wins.
    pub fn map(pairs: impl IntoIterator<Item = (Value, Value)>) -> Value {
        Value::Map(Rc::new(pairs.into_iter().collect()))
    }

    /// A set of `items`.
    pub fn set(items: impl IntoIterator<Item = Value>) -> Value {
        Value::Set(Rc::new(items.into_iter().collect()))
    }

    /// A capability value.
    pub fn cap(cap: impl Capability + 'static) -> Value {
        Value::Cap(Rc::new(cap))
    }

    /// A native function that returns at once.
    ///
    /// The function gets the interpreter (to print, or to look names up) and
    /// its arguments, already evaluated and checked against `arity`.
    pub fn native(
        name: &str,
        doc: &str,
        arity: Arity,
        f: impl Fn(&Interpreter, &[Value]) -> Result<Value, Error> + 'static,
    ) -> Value {
        Value::Native(Rc::new(Native {
            name: name.into(),
            doc: doc.into(),
            arity,
            body: NativeBody::Sync(Rc::new(f)),
        }))
    }

    /// A native function that awaits (calls a capability, applies a Glia
    /// function it was given, …).
    ///
    /// It gets a handle to the interpreter (cheap to clone; do not store it
    /// inside a value bound in the interpreter, which would make a cycle).
    pub fn native_async(
        name: &str,
        doc: &str,
        arity: Arity,
        f: impl Fn(Interpreter, Vec<Value>) -> ValueFuture + 'static,
    ) -> Value {
        Value::Native(Rc::new(Native {
            name: name.into(),
            doc: doc.into(),
            arity,
            body: NativeBody::Async(Rc::new(f)),
        }))
    }

    /// `false` for `nil` and `false`, `true` for everything else.
    pub fn truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    /// The kind of value, as `(type x)` names it: `"int"`, `"string"`, …
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Keyword(_) => "keyword",
            Value::Symbol(_) => "symbol",
            Value::List(_) => "list",
            Value::Vector(_) => "vector",
            Value::Map(_) => "map",
            Value::Set(_) => "set",
            Value::Fn(_) | Value::Native(_) => "fn",
            Value::Cap(_) => "cap",
        }
    }

    /// The docstring of a function or a capability, if it has one.
    pub fn doc(&self) -> Option<String> {
        match self {
            Value::Fn(f) => f.doc.as_deref().map(str::to_string),
            Value::Native(n) if !n.doc.is_empty() => Some(n.doc.clone()),
            Value::Cap(c) => {
                let mut doc = format!("capability `{}`; methods:", c.name());
                for method in c.methods() {
                    doc.push_str("\n  ");
                    doc.push_str(&c.describe(&method).unwrap_or(method));
                }
                Some(doc)
            }
            _ => None,
        }
    }

    /// The string inside a `Str`, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes inside a `Bytes`, if it is one.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The elements of a list or vector, if it is one.
    pub fn as_slice(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) | Value::Vector(items) => Some(items),
            _ => None,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Nil => 0,
            Value::Bool(_) => 1,
            Value::Int(_) => 2,
            Value::Float(_) => 3,
            Value::Str(_) => 4,
            Value::Keyword(_) => 5,
            Value::Symbol(_) => 6,
            Value::List(_) | Value::Vector(_) => 7,
            Value::Map(_) => 8,
            Value::Set(_) => 9,
            Value::Fn(_) => 10,
            Value::Native(_) => 11,
            Value::Cap(_) => 12,
            Value::Bytes(_) => 13,
        }
    }
}

impl Drop for Value {
    /// Drops nested collections without recursing: a value nested a
    /// million levels deep (built by a loop) must not overflow the stack
    /// when it goes.
    fn drop(&mut self) {
        let mut pending = Vec::new();
        take_children(self, &mut pending);
        while let Some(mut child) = pending.pop() {
            take_children(&mut child, &mut pending);
            // `child` now holds no children of its own: its drop is shallow.
        }
    }
}

/// Moves the elements of a collection that nothing else holds into
/// `pending`.
fn take_children(v: &mut Value, pending: &mut Vec<Value>) {
    match v {
        Value::List(items) | Value::Vector(items) => {
            if let Some(items) = Rc::get_mut(items) {
                pending.append(items);
            }
        }
        Value::Map(map) => {
            if let Some(map) = Rc::get_mut(map) {
                for (k, v) in std::mem::take(map) {
                    pending.push(k);
                    pending.push(v);
                }
            }
        }
        Value::Set(set) => {
            if let Some(set) = Rc::get_mut(set) {
                pending.extend(std::mem::take(set));
            }
        }
        _ => {}
    }
}

/// `-0.0` and `0.0` are one number; NaN equals itself (so maps stay sane).
fn float_key(f: f64) -> f64 {
    if f == 0.0 {
        0.0
    } else {
        f
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Value) -> Ordering {
        use Value::*;
        match (self, other) {
            (Nil, Nil) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => float_key(*a).total_cmp(&float_key(*b)),
            (Str(a), Str(b)) | (Keyword(a), Keyword(b)) | (Symbol(a), Symbol(b)) => a.cmp(b),
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (List(a) | Vector(a), List(b) | Vector(b)) => a.iter().cmp(b.iter()),
            (Map(a), Map(b)) => a.iter().cmp(b.iter()),
            (Set(a), Set(b)) => a.iter().cmp(b.iter()),
            (Fn(a), Fn(b)) => Rc::as_ptr(a).cmp(&Rc::as_ptr(b)),
            (Native(a), Native(b)) => Rc::as_ptr(a).cmp(&Rc::as_ptr(b)),
            (Cap(a), Cap(b)) => Rc::as_ptr(a).cast::<u8>().cmp(&Rc::as_ptr(b).cast::<u8>()),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        use Value::*;
        self.rank().hash(state);
        match self {
            Nil => {}
            Bool(b) => b.hash(state),
            Int(i) => i.hash(state),
            Float(f) => float_key(*f).to_bits().hash(state),
            Str(s) | Keyword(s) | Symbol(s) => s.hash(state),
            Bytes(b) => b.hash(state),
            List(items) | Vector(items) => items.hash(state),
            Map(m) => m.iter().for_each(|e| e.hash(state)),
            Set(s) => s.iter().for_each(|e| e.hash(state)),
            Fn(f) => Rc::as_ptr(f).hash(state),
            Native(n) => Rc::as_ptr(n).hash(state),
            Cap(c) => Rc::as_ptr(c).cast::<u8>().hash(state),
        }
    }
}

impl fmt::Display for Value {
    /// The readable form, as `pr-str` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::printer::pr_str(self))
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::printer::pr_str(self))
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(Rc::from(s))
    }
}

/// How many arguments a function takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arity {
    /// The fewest.
    pub min: usize,
    /// The most, or `None` for any number.
    pub max: Option<usize>,
}

impl Arity {
    /// Exactly `n`.
    pub const fn exactly(n: usize) -> Arity {
        Arity {
            min: n,
            max: Some(n),
        }
    }

    /// `n` or more.
    pub const fn at_least(n: usize) -> Arity {
        Arity { min: n, max: None }
    }

    /// From `min` to `max`, both included.
    pub const fn between(min: usize, max: usize) -> Arity {
        Arity {
            min,
            max: Some(max),
        }
    }

    /// Whether `n` arguments fit.
    pub fn accepts(&self, n: usize) -> bool {
        n >= self.min && self.max.is_none_or(|max| n <= max)
    }
}

impl fmt::Display for Arity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max {
            Some(max) if max == self.min => write!(f, "{max}"),
            Some(max) => write!(f, "{} to {max}", self.min),
            None => write!(f, "{} or more", self.min),
        }
    }
}

/// A function written in Rust.
pub struct Native {
    pub(crate) name: String,
    pub(crate) doc: String,
    pub(crate) arity: Arity,
    pub(crate) body: NativeBody,
}

impl Native {
    /// The name it was defined with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its docstring (may be empty).
    pub fn doc(&self) -> &str {
        &self.doc
    }

    /// How many arguments it takes.
    pub fn arity(&self) -> Arity {
        self.arity
    }
}

type SyncBody = dyn Fn(&Interpreter, &[Value]) -> Result<Value, Error>;
type AsyncBody = dyn Fn(Interpreter, Vec<Value>) -> ValueFuture;

pub(crate) enum NativeBody {
    Sync(Rc<SyncBody>),
    Async(Rc<AsyncBody>),
    /// A core function that calls functions, run by the evaluation machine
    /// itself so that recursion through it stays off the host stack.
    Machine(Hof),
}

/// The core functions that call functions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hof {
    Map,
    Filter,
    Remove,
    Reduce,
    Apply,
    Every,
    Some,
}

/// A function written in Glia: one or more arities and the local
/// environment it closed over.
pub struct Lambda {
    pub(crate) name: Option<Rc<str>>,
    pub(crate) doc: Option<Rc<str>>,
    pub(crate) clauses: Rc<Vec<Clause>>,
    pub(crate) env: Env,
    /// `(fn name …)`: the body sees `name` bound to the function itself.
    pub(crate) self_bind: bool,
}

impl Lambda {
    /// The name from `defn`, `(fn name …)` or `def`, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// One arity of a [`Lambda`]: `[a b & rest] body…`.
pub(crate) struct Clause {
    pub(crate) params: Vec<Rc<str>>,
    pub(crate) rest: Option<Rc<str>>,
    pub(crate) body: Rc<Vec<Value>>,
}

impl Clause {
    pub(crate) fn accepts(&self, n: usize) -> bool {
        if self.rest.is_some() {
            n >= self.params.len()
        } else {
            n == self.params.len()
        }
    }
}

#[cfg(test)]
mod tests;
