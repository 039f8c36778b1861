//! Functions that call functions: `map`, `filter`, `reduce`, `apply`, …
//!
//! They are async natives, since the function they call may await a
//! capability.

use super::elements;
use crate::eval::Interpreter;
use crate::value::{Arity, Value, ValueFuture};

fn map(interp: Interpreter, args: Vec<Value>) -> ValueFuture {
    Box::pin(async move {
        let f = &args[0];
        let colls = args[1..]
            .iter()
            .map(|c| elements("map", c))
            .collect::<Result<Vec<_>, _>>()?;
        let n = colls.iter().map(Vec::len).min().unwrap_or(0);
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let call_args = colls.iter().map(|c| c[i].clone()).collect();
            out.push(interp.apply(f, call_args).await?);
        }
        Ok(Value::list(out))
    })
}

/// `filter` keeps, `remove` drops, the elements the predicate accepts.
fn select(name: &'static str, keep: bool) -> impl Fn(Interpreter, Vec<Value>) -> ValueFuture {
    move |interp, args| {
        Box::pin(async move {
            let mut out = Vec::new();
            for x in elements(name, &args[1])? {
                if interp.apply(&args[0], vec![x.clone()]).await?.truthy() == keep {
                    out.push(x);
                }
            }
            Ok(Value::list(out))
        })
    }
}

fn reduce(interp: Interpreter, args: Vec<Value>) -> ValueFuture {
    Box::pin(async move {
        let f = &args[0];
        let (mut acc, items) = if args.len() == 3 {
            (args[1].clone(), elements("reduce", &args[2])?)
        } else {
            let mut items = elements("reduce", &args[1])?.into_iter();
            match items.next() {
                // (reduce f []) is (f), as in Clojure.
                None => return interp.apply(f, Vec::new()).await,
                Some(first) => (first, items.collect()),
            }
        };
        for x in items {
            acc = interp.apply(f, vec![acc, x]).await?;
        }
        Ok(acc)
    })
}

fn apply(interp: Interpreter, mut args: Vec<Value>) -> ValueFuture {
    Box::pin(async move {
        let last = args.pop().expect("arity checked");
        let f = args.remove(0);
        args.extend(elements("apply", &last)?);
        interp.apply(&f, args).await
    })
}

fn every(interp: Interpreter, args: Vec<Value>) -> ValueFuture {
    Box::pin(async move {
        for x in elements("every?", &args[1])? {
            if !interp.apply(&args[0], vec![x]).await?.truthy() {
                return Ok(Value::Bool(false));
            }
        }
        Ok(Value::Bool(true))
    })
}

fn some(interp: Interpreter, args: Vec<Value>) -> ValueFuture {
    Box::pin(async move {
        for x in elements("some", &args[1])? {
            let v = interp.apply(&args[0], vec![x]).await?;
            if v.truthy() {
                return Ok(v);
            }
        }
        Ok(Value::Nil)
    })
}

pub(super) fn install(i: &Interpreter) {
    let two = Arity::exactly(2);
    i.define_async_fn(
        "map",
        "(map f coll …): a list of (f x) for each x of coll; with several colls, f takes one element of each and the shortest coll ends it.",
        Arity::at_least(2),
        map,
    );
    i.define_async_fn(
        "filter",
        "(filter pred coll): a list of the elements for which (pred x) is truthy.",
        two,
        select("filter", true),
    );
    i.define_async_fn(
        "remove",
        "(remove pred coll): a list of the elements for which (pred x) is falsy.",
        two,
        select("remove", false),
    );
    i.define_async_fn(
        "reduce",
        "(reduce f init? coll): combines the elements with f, left to right: (f (f init x1) x2)…; without init the first element starts.",
        Arity::between(2, 3),
        reduce,
    );
    i.define_async_fn(
        "apply",
        "(apply f x … coll): calls f with the xs followed by the elements of coll.",
        Arity::at_least(2),
        apply,
    );
    i.define_async_fn(
        "every?",
        "(every? pred coll): true if (pred x) is truthy for every element.",
        two,
        every,
    );
    i.define_async_fn(
        "some",
        "(some pred coll): the first truthy (pred x), or nil.",
        two,
        some,
    );
}
