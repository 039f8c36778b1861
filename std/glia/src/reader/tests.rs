//! The reader: every literal, positions in errors, incomplete input.

use super::*;

fn one(src: &str) -> Value {
    let mut forms = read_all(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    assert_eq!(forms.len(), 1, "{src:?}");
    forms.remove(0)
}

fn err(src: &str) -> ReadError {
    read_all(src).expect_err(src)
}

#[test]
fn atoms() {
    assert_eq!(one("nil"), Value::Nil);
    assert_eq!(one("true"), Value::Bool(true));
    assert_eq!(one("false"), Value::Bool(false));
    assert_eq!(one("42"), Value::Int(42));
    assert_eq!(one("-7"), Value::Int(-7));
    assert_eq!(one("+7"), Value::Int(7));
    assert_eq!(one("9223372036854775807"), Value::Int(i64::MAX));
    assert_eq!(one("-9223372036854775808"), Value::Int(i64::MIN));
    assert_eq!(one("1.5"), Value::Float(1.5));
    assert_eq!(one("-2.5e3"), Value::Float(-2500.0));
    assert_eq!(one(":key"), Value::keyword("key"));
    assert_eq!(one("foo"), Value::symbol("foo"));
    assert_eq!(one("-"), Value::symbol("-"));
    assert_eq!(one("->x"), Value::symbol("->x"));
    assert_eq!(one("a/b"), Value::symbol("a/b"));
    assert_eq!(one("empty?"), Value::symbol("empty?"));
}

#[test]
fn strings_and_escapes() {
    assert_eq!(one(r#""hi""#), Value::str("hi"));
    assert_eq!(
        one(r#""a\"b\\c\nd\te\u00e9""#),
        Value::str("a\"b\\c\nd\teé")
    );
    assert_eq!(one("\"two\nlines\""), Value::str("two\nlines"));
    let e = err(r#""bad \q escape""#);
    assert_eq!((e.line, e.column, e.incomplete), (1, 6, false));
    assert!(e.message.contains("\\q"), "{e}");
    assert!(!err(r#""\u12""#).incomplete);
}

#[test]
fn collections() {
    assert_eq!(
        one("(1 [2 3] {:a 1} #{4})").to_string(),
        "(1 [2 3] {:a 1} #{4})"
    );
    assert_eq!(one("()"), Value::list(vec![]));
    assert_eq!(one("[]"), Value::vector(vec![]));
    assert_eq!(one("{:a 1, :b 2}").to_string(), "{:a 1, :b 2}");
    assert_eq!(one("'x").to_string(), "(quote x)");
    assert_eq!(one("'(1 'y)").to_string(), "(quote (1 (quote y)))");
}

#[test]
fn comments_commas_and_discard() {
    let forms = read_all("; a comment\n1, 2 ; trailing\n #_(ignored 3) 4").unwrap();
    assert_eq!(forms, vec![Value::Int(1), Value::Int(2), Value::Int(4)]);
    assert_eq!(read_all("; only a comment").unwrap(), vec![]);
    assert_eq!(read_all("").unwrap(), vec![]);
}

#[test]
fn integer_overflow_is_an_error_not_a_panic() {
    let e = err("(+ 1 9223372036854775808)");
    assert_eq!((e.line, e.column, e.incomplete), (1, 6, false));
    assert!(e.message.contains("out of range"), "{e}");
}

#[test]
fn bad_input_has_a_position() {
    let e = err("(+ 1 2))");
    assert_eq!((e.line, e.column), (1, 8));
    assert_eq!(e.to_string(), "1:8: unexpected `)`");
    let e = err("(let [x 1}\n  x)");
    assert_eq!((e.line, e.column), (1, 10));
    assert!(e.message.contains("`[` opened at 1:6"), "{e}");
    let e = err("\n\n  12abc");
    assert_eq!((e.line, e.column), (3, 3));
    assert!(e.message.contains("invalid number"), "{e}");
    assert!(err("{:a}").message.contains("even number"));
    assert!(err("{:a 1 :a 2}").message.contains("duplicate key"));
    assert!(err("#{1 1}").message.contains("duplicate element"));
    assert!(err("#(inc %)").message.contains("unsupported"));
    assert!(err("`(a ~b)").message.contains("not supported"));
    assert!(err(":").message.contains("bad keyword"));
}

#[test]
fn incomplete_input_is_distinguishable() {
    for src in [
        "(", "(+ 1", "[1 2", "{:a", "#{", "\"abc", "(str \"a", "'", "(a\n(b",
    ] {
        let e = err(src);
        assert!(e.incomplete, "{src:?} should be incomplete: {e}");
    }
    let e = err("(def x\n  (+ 1");
    assert_eq!((e.line, e.column), (2, 3), "innermost open form");
    for src in [")", "(]", "1 )", "\"\\q\""] {
        assert!(!err(src).incomplete, "{src:?} is bad, not incomplete");
    }
}

#[test]
fn nesting_is_limited() {
    let ok = "[".repeat(MAX_NESTING) + &"]".repeat(MAX_NESTING);
    assert!(matches!(one(&ok), Value::Vector(_)));
    let deep = "(".repeat(100_000);
    let e = err(&deep);
    assert_eq!((e.line, e.column), (1, MAX_NESTING + 1));
    assert!(e.message.contains("nested deeper"), "{e}");
    assert!(!e.incomplete);
}

#[test]
fn reader_is_an_iterator_that_stops_after_an_error() {
    let mut r = Reader::new("1 ) 2");
    assert_eq!(r.next().unwrap().unwrap(), Value::Int(1));
    assert!(r.next().unwrap().is_err());
    assert!(r.next().is_none());
}

#[test]
fn printed_data_reads_back() {
    for src in [
        "nil",
        "[1 -2 3.5 \"s\\n\\\"q\\\"\" :k sym]",
        "{:a [1 2], :b #{:x :y}}",
        "(quote (a b))",
        "##NaN",
    ] {
        let Ok(v) = read_all(src) else { continue };
        let printed = crate::pr_str(&v[0]);
        assert_eq!(read_all(&printed).unwrap()[0], v[0], "{src}");
    }
}

#[test]
fn bytes_literals() {
    assert_eq!(one(r#"#bytes "0a ff""#), Value::bytes([0x0a, 0xff]));
    assert_eq!(one(r#"#bytes "0AfF00""#), Value::bytes([0x0a, 0xff, 0x00]));
    assert_eq!(one(r#"#bytes """#), Value::bytes([]));
    assert_eq!(one("#bytes\n \"ab\""), Value::bytes([0xab]));
    // Bytes are not text, however alike they look.
    assert_ne!(one(r#"#bytes "ab""#), Value::str("ab"));
    assert_eq!(
        one(r#"[#bytes "01" #{#bytes "02"}]"#),
        Value::vector(vec![Value::bytes([1]), Value::set([Value::bytes([2])])])
    );
}

#[test]
fn bad_bytes_literals_say_why() {
    let e = err(r#"#bytes "abc""#);
    assert!(e.message.contains("odd number of hex digits"), "{e}");
    assert!(!e.incomplete);
    let e = err(r#"#bytes "zz""#);
    assert!(e.message.contains("`z` is not a hex digit"), "{e}");
    let e = err("#bytes 12");
    assert!(e.message.contains("takes a string of hex digits"), "{e}");
    let e = err(r#"#byte "00""#);
    assert!(e.message.contains("unknown tag `#byte`"), "{e}");
    // Input that stops after the tag, or inside its string, may go on.
    assert!(err("#bytes").incomplete);
    assert!(err("#bytes \"0a").incomplete);
}

#[test]
fn forms_gives_each_top_level_form_as_written() {
    assert_eq!(
        forms("(+ 1 1)\n(+ 2 2)\n  ; note\n[1 \"é\"] :k #bytes \"0a\"").unwrap(),
        ["(+ 1 1)", "(+ 2 2)", "[1 \"é\"]", ":k", "#bytes \"0a\""]
    );
    assert_eq!(forms(" ; only a comment\n").unwrap(), Vec::<&str>::new());
    assert!(forms("(+ 1 1) (+ 2").unwrap_err().incomplete);
}
