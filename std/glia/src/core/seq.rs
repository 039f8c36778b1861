//! Functions that call functions: `map`, `filter`, `remove`, `reduce`,
//! `apply`, `every?`, `some`.
//!
//! The evaluation machine runs them itself (they are
//! [`NativeBody::Machine`]), so a function they call can call them again,
//! as deeply as any other recursion, without using host stack.

use std::rc::Rc;

use crate::eval::Interpreter;
use crate::value::{Arity, Hof, Native, NativeBody, Value};

fn define(i: &Interpreter, name: &str, doc: &str, arity: Arity, hof: Hof) {
    i.define(
        name,
        Value::Native(Rc::new(Native {
            name: name.into(),
            doc: doc.into(),
            arity,
            body: NativeBody::Machine(hof),
        })),
    );
}

pub(super) fn install(i: &Interpreter) {
    let two = Arity::exactly(2);
    define(
        i,
        "map",
        "(map f coll …): a list of (f x) for each x of coll; with several colls, f takes one element of each and the shortest coll ends it.",
        Arity::at_least(2),
        Hof::Map,
    );
    define(
        i,
        "filter",
        "(filter pred coll): a list of the elements for which (pred x) is truthy.",
        two,
        Hof::Filter,
    );
    define(
        i,
        "remove",
        "(remove pred coll): a list of the elements for which (pred x) is falsy.",
        two,
        Hof::Remove,
    );
    define(
        i,
        "reduce",
        "(reduce f init? coll): combines the elements with f, left to right: (f (f init x1) x2)…; without init the first element starts.",
        Arity::between(2, 3),
        Hof::Reduce,
    );
    define(
        i,
        "apply",
        "(apply f x … coll): calls f with the xs followed by the elements of coll.",
        Arity::at_least(2),
        Hof::Apply,
    );
    define(
        i,
        "every?",
        "(every? pred coll): true if (pred x) is truthy for every element.",
        two,
        Hof::Every,
    );
    define(
        i,
        "some",
        "(some pred coll): the first truthy (pred x), or nil.",
        two,
        Hof::Some,
    );
}
