//! Equality, ordering and hashing of values.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use super::*;

fn hash(v: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

#[test]
fn clojure_equality() {
    let list = Value::list(vec![Value::Int(1), Value::Int(2)]);
    let vector = Value::vector(vec![Value::Int(1), Value::Int(2)]);
    assert_eq!(list, vector, "(= '(1 2) [1 2])");
    assert_eq!(hash(&list), hash(&vector));
    assert_ne!(Value::Int(1), Value::Float(1.0), "(= 1 1.0) is false");
    assert_eq!(Value::Float(0.0), Value::Float(-0.0));
    assert_eq!(hash(&Value::Float(0.0)), hash(&Value::Float(-0.0)));
    assert_ne!(Value::str("a"), Value::keyword("a"));
    assert_ne!(Value::keyword("a"), Value::symbol("a"));
    let m1 = Value::map([(Value::keyword("a"), Value::Int(1))]);
    let m2 = Value::map([(Value::keyword("a"), Value::Int(1))]);
    assert_eq!(m1, m2);
    assert_eq!(hash(&m1), hash(&m2));
}

#[test]
fn total_order_by_kind_then_content() {
    let mut vs = vec![
        Value::str("b"),
        Value::Int(2),
        Value::Nil,
        Value::str("a"),
        Value::Int(-1),
        Value::Bool(false),
    ];
    vs.sort();
    assert_eq!(Value::vector(vs).to_string(), r#"[nil false -1 2 "a" "b"]"#);
}

#[test]
fn truthiness_and_types() {
    assert!(!Value::Nil.truthy());
    assert!(!Value::Bool(false).truthy());
    assert!(Value::Int(0).truthy());
    assert!(Value::str("").truthy());
    assert_eq!(Value::Int(1).type_name(), "int");
    assert_eq!(Value::set([]).type_name(), "set");
}

#[test]
fn arity() {
    assert!(Arity::exactly(2).accepts(2));
    assert!(!Arity::exactly(2).accepts(3));
    assert!(Arity::at_least(1).accepts(9));
    assert!(!Arity::between(1, 2).accepts(0));
    assert_eq!(Arity::between(1, 2).to_string(), "1 to 2");
    assert_eq!(Arity::at_least(1).to_string(), "1 or more");
}

#[test]
fn dropping_a_deeply_nested_value_does_not_recurse() {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(|| {
            let mut v = Value::Nil;
            for i in 0..1_000_000 {
                v = match i % 4 {
                    0 => Value::vector(vec![v]),
                    1 => Value::list(vec![Value::Int(1), v]),
                    2 => Value::map([(Value::keyword("k"), v)]),
                    _ => Value::set([v]),
                };
            }
            drop(v);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn shared_children_survive_a_drop() {
    let inner = Value::vector(vec![Value::Int(1)]);
    let outer = Value::vector(vec![inner.clone(), inner.clone()]);
    drop(outer);
    assert_eq!(inner.to_string(), "[1]");
}
