//! Collections: building, reading and "changing" (returning a changed
//! copy of) lists, vectors, maps and sets.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::{elements, get, int, MAX_ELEMENTS};
use crate::error::Error;
use crate::eval::Interpreter;
use crate::value::{Arity, Value};

fn hash_map(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    if !args.len().is_multiple_of(2) {
        return Err(Error::Native(
            "hash-map takes keys and values in pairs: (hash-map :a 1 :b 2)".into(),
        ));
    }
    Ok(Value::map(
        args.chunks(2).map(|kv| (kv[0].clone(), kv[1].clone())),
    ))
}

fn count(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let n = match &args[0] {
        Value::Nil => 0,
        Value::List(items) | Value::Vector(items) => items.len(),
        Value::Map(m) => m.len(),
        Value::Set(s) => s.len(),
        Value::Str(s) => s.chars().count(),
        Value::Bytes(b) => b.len(),
        other => return Err(Error::type_error("count", "a collection", other)),
    };
    Ok(Value::Int(n as i64))
}

fn first(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    Ok(match &args[0] {
        Value::List(items) | Value::Vector(items) => items.first().cloned().unwrap_or(Value::Nil),
        other => elements("first", other)?
            .into_iter()
            .next()
            .unwrap_or(Value::Nil),
    })
}

fn rest(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    Ok(match &args[0] {
        Value::List(items) | Value::Vector(items) => {
            Value::list(items.get(1..).unwrap_or_default().to_vec())
        }
        other => Value::list(elements("rest", other)?.into_iter().skip(1).collect()),
    })
}

fn nth(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let items = elements("nth", &args[0])?;
    let index = int("nth", &args[1])?;
    match usize::try_from(index).ok().and_then(|i| items.get(i)) {
        Some(v) => Ok(v.clone()),
        None => match args.get(2) {
            Some(default) => Ok(default.clone()),
            None => Err(Error::Index {
                index,
                len: items.len(),
            }),
        },
    }
}

fn conj(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let mut coll = args[0].clone();
    for x in &args[1..] {
        match &mut coll {
            Value::Nil => coll = Value::list(vec![x.clone()]),
            Value::List(items) => Rc::make_mut(items).insert(0, x.clone()),
            Value::Vector(items) => Rc::make_mut(items).push(x.clone()),
            Value::Set(set) => {
                Rc::make_mut(set).insert(x.clone());
            }
            Value::Map(map) => match x.as_slice() {
                Some([k, v]) => {
                    Rc::make_mut(map).insert(k.clone(), v.clone());
                }
                _ => return Err(Error::type_error("conj", "a [key value] pair", x)),
            },
            other => return Err(Error::type_error("conj", "a collection", other)),
        }
    }
    Ok(coll)
}

fn cons(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let mut items = vec![args[0].clone()];
    items.extend(elements("cons", &args[1])?);
    Ok(Value::list(items))
}

fn assoc(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    if args.len() % 2 != 1 {
        return Err(Error::Native(
            "assoc takes a collection and key/value pairs: (assoc m :k v)".into(),
        ));
    }
    let mut coll = args[0].clone();
    for kv in args[1..].chunks(2) {
        match &mut coll {
            Value::Nil => coll = Value::map([(kv[0].clone(), kv[1].clone())]),
            Value::Map(map) => {
                Rc::make_mut(map).insert(kv[0].clone(), kv[1].clone());
            }
            Value::Vector(items) => {
                let index = int("assoc", &kv[0])?;
                let len = items.len();
                match usize::try_from(index).ok().filter(|i| *i <= len) {
                    Some(i) if i == len => Rc::make_mut(items).push(kv[1].clone()),
                    Some(i) => Rc::make_mut(items)[i] = kv[1].clone(),
                    None => return Err(Error::Index { index, len }),
                }
            }
            other => return Err(Error::type_error("assoc", "a map or a vector", other)),
        }
    }
    Ok(coll)
}

fn dissoc(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    match &args[0] {
        Value::Nil => Ok(Value::Nil),
        Value::Map(map) => {
            let mut map = map.clone();
            for k in &args[1..] {
                if map.contains_key(k) {
                    Rc::make_mut(&mut map).remove(k);
                }
            }
            Ok(Value::Map(map))
        }
        other => Err(Error::type_error("dissoc", "a map", other)),
    }
}

fn disj(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    match &args[0] {
        Value::Nil => Ok(Value::Nil),
        Value::Set(set) => {
            let mut set = set.clone();
            for k in &args[1..] {
                if set.contains(k) {
                    Rc::make_mut(&mut set).remove(k);
                }
            }
            Ok(Value::Set(set))
        }
        other => Err(Error::type_error("disj", "a set", other)),
    }
}

fn contains(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let found = match (&args[0], &args[1]) {
        (Value::Nil, _) => false,
        (Value::Map(m), k) => m.contains_key(k),
        (Value::Set(s), k) => s.contains(k),
        (Value::Vector(items), Value::Int(i)) => usize::try_from(*i).is_ok_and(|i| i < items.len()),
        (Value::Vector(_), _) => false,
        (Value::Str(s), Value::Int(i)) => usize::try_from(*i).is_ok_and(|i| i < s.chars().count()),
        (other, _) => {
            return Err(Error::type_error(
                "contains?",
                "a map, set, vector or string",
                other,
            ))
        }
    };
    Ok(Value::Bool(found))
}

fn map_part(name: &str, v: &Value, key: bool) -> Result<Value, Error> {
    match v {
        Value::Nil => Ok(Value::Nil),
        Value::Map(m) if m.is_empty() => Ok(Value::Nil),
        Value::Map(m) => Ok(Value::list(
            m.iter()
                .map(|(k, v)| if key { k.clone() } else { v.clone() })
                .collect(),
        )),
        other => Err(Error::type_error(name, "a map", other)),
    }
}

fn range(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let ints: Vec<i64> = args
        .iter()
        .map(|a| int("range", a))
        .collect::<Result<_, _>>()?;
    let (start, end, step) = match ints[..] {
        [end] => (0, end, 1),
        [start, end] => (start, end, 1),
        [start, end, step] => (start, end, step),
        _ => unreachable!("arity checked"),
    };
    if step == 0 {
        return Err(Error::Native("range: step must not be 0".into()));
    }
    let span = (i128::from(end) - i128::from(start)) / i128::from(step);
    let len = if span > 0 { span + 1 } else { 0 };
    if len > MAX_ELEMENTS as i128 {
        return Err(Error::Native(format!(
            "range: more than {MAX_ELEMENTS} elements"
        )));
    }
    let mut out = Vec::new();
    let mut x = start;
    while (step > 0 && x < end) || (step < 0 && x > end) {
        out.push(Value::Int(x));
        match x.checked_add(step) {
            Some(next) => x = next,
            None => break,
        }
    }
    Ok(Value::list(out))
}

fn concat(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let mut out = Vec::new();
    for a in args {
        out.extend(elements("concat", a)?);
        if out.len() > MAX_ELEMENTS {
            return Err(Error::Native(format!(
                "concat: more than {MAX_ELEMENTS} elements"
            )));
        }
    }
    Ok(Value::list(out))
}

fn into(i: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let mut conj_args = vec![args[0].clone()];
    conj_args.extend(elements("into", &args[1])?);
    conj(i, &conj_args)
}

fn empty(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::Bool(match &args[0] {
        Value::Nil => true,
        Value::List(items) | Value::Vector(items) => items.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::Str(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        other => return Err(Error::type_error("empty?", "a collection", other)),
    }))
}

pub(super) fn install(i: &Interpreter) {
    let any = Arity::at_least(0);
    let one = Arity::exactly(1);
    i.define_fn(
        "list",
        "(list x …): a list of the arguments.",
        any,
        |_, a| Ok(Value::list(a.to_vec())),
    );
    i.define_fn(
        "vector",
        "(vector x …): a vector of the arguments.",
        any,
        |_, a| Ok(Value::vector(a.to_vec())),
    );
    i.define_fn(
        "vec",
        "(vec coll): a vector of the elements of coll.",
        one,
        |_, a| Ok(Value::vector(elements("vec", &a[0])?)),
    );
    i.define_fn(
        "hash-map",
        "(hash-map k v …): a map of the key/value pairs.",
        any,
        hash_map,
    );
    i.define_fn(
        "hash-set",
        "(hash-set x …): a set of the arguments.",
        any,
        |_, a| {
            Ok(Value::Set(Rc::new(
                a.iter().cloned().collect::<BTreeSet<_>>(),
            )))
        },
    );
    i.define_fn(
        "set",
        "(set coll): a set of the elements of coll.",
        one,
        |_, a| Ok(Value::set(elements("set", &a[0])?)),
    );
    i.define_fn(
        "count",
        "(count coll): the number of elements (characters of a string, bytes of bytes); (count nil) is 0.",
        one,
        count,
    );
    i.define_fn(
        "empty?",
        "(empty? coll): true if coll has no elements.",
        one,
        empty,
    );
    i.define_fn(
        "first",
        "(first coll): the first element, or nil.",
        one,
        first,
    );
    i.define_fn(
        "rest",
        "(rest coll): a list of all but the first element.",
        one,
        rest,
    );
    i.define_fn(
        "last",
        "(last coll): the last element, or nil.",
        one,
        |_, a| Ok(elements("last", &a[0])?.pop().unwrap_or(Value::Nil)),
    );
    i.define_fn(
        "nth",
        "(nth coll i default?): the element at index i; out of range is an error unless a default is given.",
        Arity::between(2, 3),
        nth,
    );
    i.define_fn(
        "conj",
        "(conj coll x …): coll with the xs added: at the end of a vector, the front of a list, into a set, or [k v] pairs into a map.",
        Arity::at_least(1),
        conj,
    );
    i.define_fn(
        "cons",
        "(cons x coll): a list of x followed by the elements of coll.",
        Arity::exactly(2),
        cons,
    );
    i.define_fn(
        "into",
        "(into to from): `to` with every element of `from` conj'ed in.",
        Arity::exactly(2),
        into,
    );
    i.define_fn(
        "assoc",
        "(assoc m k v …): the map with the keys set to the values (or a vector with indices set).",
        Arity::at_least(3),
        assoc,
    );
    i.define_fn(
        "dissoc",
        "(dissoc m k …): the map without the keys.",
        Arity::at_least(1),
        dissoc,
    );
    i.define_fn(
        "disj",
        "(disj s x …): the set without the xs.",
        Arity::at_least(1),
        disj,
    );
    i.define_fn(
        "get",
        "(get coll key default?): the value at key in a map, the element in a set, the element at an index of a vector or string; default (or nil) when absent.",
        Arity::between(2, 3),
        |_, a| Ok(get(&a[0], &a[1]).unwrap_or_else(|| a.get(2).cloned().unwrap_or(Value::Nil))),
    );
    i.define_fn(
        "contains?",
        "(contains? coll key): true if a map has the key, a set the element, a vector the index.",
        Arity::exactly(2),
        contains,
    );
    i.define_fn(
        "keys",
        "(keys m): a list of the map's keys, or nil if empty.",
        one,
        |_, a| map_part("keys", &a[0], true),
    );
    i.define_fn(
        "vals",
        "(vals m): a list of the map's values, or nil if empty.",
        one,
        |_, a| map_part("vals", &a[0], false),
    );
    i.define_fn(
        "range",
        "(range end), (range start end), (range start end step): a list of integers from start (0) up to, not including, end.",
        Arity::between(1, 3),
        range,
    );
    i.define_fn(
        "concat",
        "(concat coll …): a list of the elements of every coll in order.",
        any,
        concat,
    );
    i.define_fn(
        "reverse",
        "(reverse coll): a list of the elements in reverse order.",
        one,
        |_, a| {
            let mut items = elements("reverse", &a[0])?;
            items.reverse();
            Ok(Value::list(items))
        },
    );
    i.define_fn(
        "sort",
        "(sort coll): a list of the elements in order (numbers of one kind, strings, keywords… ).",
        one,
        |_, a| {
            let mut items = elements("sort", &a[0])?;
            items.sort();
            Ok(Value::list(items))
        },
    );
    i.define_fn(
        "zipmap",
        "(zipmap keys vals): a map pairing each key with the value at the same position.",
        Arity::exactly(2),
        |_, a| {
            let keys = elements("zipmap", &a[0])?;
            let vals = elements("zipmap", &a[1])?;
            Ok(Value::Map(Rc::new(
                keys.into_iter().zip(vals).collect::<BTreeMap<_, _>>(),
            )))
        },
    );
}
