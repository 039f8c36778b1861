//! The printer: readable and display forms.

use super::*;
use crate::read_all;

fn read(src: &str) -> Value {
    read_all(src).unwrap().remove(0)
}

#[test]
fn readable_forms() {
    assert_eq!(pr_str(&Value::Nil), "nil");
    assert_eq!(pr_str(&Value::Float(1.0)), "1.0");
    assert_eq!(pr_str(&Value::Float(0.1)), "0.1");
    assert_eq!(pr_str(&Value::Float(f64::INFINITY)), "##Inf");
    assert_eq!(pr_str(&Value::Float(f64::NEG_INFINITY)), "##-Inf");
    assert_eq!(pr_str(&Value::Float(f64::NAN)), "##NaN");
    assert_eq!(pr_str(&Value::str("a\"b\n")), r#""a\"b\n""#);
    assert_eq!(
        pr_str(&read("{:b 2 :a [1 \"x\"]}")),
        r#"{:a [1 "x"], :b 2}"#
    );
    assert_eq!(pr_str(&read("#{3 1 2}")), "#{1 2 3}");
    assert_eq!(pr_str(&read("(a :b \"c\")")), r#"(a :b "c")"#);
}

#[test]
fn display_forms() {
    assert_eq!(print_str(&Value::str("a\"b")), "a\"b");
    assert_eq!(print_str(&Value::Nil), "nil");
    assert_eq!(print_str(&read("[\"x\"]")), "[\"x\"]");
}

#[test]
fn deep_values_are_cut_not_overflowed() {
    let mut v = Value::Nil;
    for _ in 0..(MAX_DEPTH + 10) {
        v = Value::vector(vec![v]);
    }
    let s = pr_str(&v);
    assert!(s.contains('…'));
    assert!(s.starts_with("[[[["));
}
