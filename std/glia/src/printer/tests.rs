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

#[test]
fn bytes_print_as_bytes_whatever_they_hold() {
    assert_eq!(pr_str(&Value::bytes([0x0a, 0xff])), r#"#bytes "0a ff""#);
    assert_eq!(pr_str(&Value::bytes([])), r#"#bytes """#);
    // Printable text in bytes still prints as bytes, and the text "0xab"
    // as text: the two never look alike.
    assert_eq!(pr_str(&Value::bytes(b"hi")), r#"#bytes "68 69""#);
    assert_eq!(pr_str(&Value::bytes([0xab])), r#"#bytes "ab""#);
    assert_eq!(pr_str(&Value::str("0xab")), r#""0xab""#);
    assert_eq!(print_str(&Value::bytes([1])), r#"#bytes "01""#);
    // What the printer writes, the reader reads back.
    let v = Value::vector(vec![Value::bytes([0, 1, 254, 255]), Value::str("x")]);
    assert_eq!(read(&pr_str(&v)), v);
}
