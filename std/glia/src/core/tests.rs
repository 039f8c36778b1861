//! The core library, function by function, and its docstrings.

use std::cell::RefCell;
use std::rc::Rc;

use futures::executor::block_on;

use crate::{Interpreter, Value};

/// Evaluates `src` in a fresh session; the result printed, or the error.
fn show(src: &str) -> String {
    match block_on(Interpreter::new().eval_str(src)) {
        Ok(v) => v.to_string(),
        Err(e) => format!("error: {e}"),
    }
}

fn check(cases: &[(&str, &str)]) {
    for (src, want) in cases {
        assert_eq!(show(src), *want, "{src}");
    }
}

#[test]
fn arithmetic_promotes_and_checks() {
    check(&[
        ("(+)", "0"),
        ("(+ 1 2 3)", "6"),
        ("(+ 1 2.5)", "3.5"),
        ("(- 5)", "-5"),
        ("(- 10 1 2)", "7"),
        ("(* 2 3 4)", "24"),
        ("(*)", "1"),
        ("(* 2 0.5)", "1.0"),
        ("(/ 6 3)", "2"),
        ("(/ 7 2)", "3.5"),
        ("(/ 2)", "0.5"),
        ("(/ 1.0 4)", "0.25"),
        ("(/ 1 0)", "error: divide by zero"),
        ("(/ 1.0 0.0)", "error: divide by zero"),
        ("(mod 7 3)", "1"),
        ("(mod -7 3)", "2"),
        ("(mod 7 -3)", "-2"),
        ("(mod 7 0)", "error: divide by zero"),
        ("(mod 7.5 2)", "1.5"),
        ("(quot -7 2)", "-3"),
        ("(rem -7 2)", "-1"),
        ("(inc 1)", "2"),
        ("(dec 1.5)", "0.5"),
        ("(abs -3)", "3"),
        ("(max 1 5 3)", "5"),
        ("(min 1 -5 3.0)", "-5"),
        (
            "(+ 9223372036854775807 1)",
            "error: integer overflow in `+`",
        ),
        ("(- -9223372036854775808)", "error: integer overflow in `-`"),
        (
            "(inc 9223372036854775807)",
            "error: integer overflow in `inc`",
        ),
        (
            "(/ -9223372036854775808 -1)",
            "error: integer overflow in `/`",
        ),
        ("(+ 1 nil)", "error: `+` expected a number, got nil nil"),
        (
            "(-)",
            "error: wrong number of arguments to `-`: expected 1 or more, got 0",
        ),
    ]);
}

#[test]
fn comparison_and_equality() {
    check(&[
        ("(< 1 2 3)", "true"),
        ("(< 1 3 2)", "false"),
        ("(<= 1 1 2)", "true"),
        ("(> 3 2.5)", "true"),
        ("(>= 2 2)", "true"),
        ("(< 1)", "true"),
        (
            "(< 1 \"a\")",
            "error: `<` expected a number, got string \"a\"",
        ),
        ("(= 1 1)", "true"),
        ("(= 1 1.0)", "false"),
        ("(== 1 1.0)", "true"),
        ("(= [1 2] '(1 2))", "true"),
        ("(= {:a [1]} {:a [1]})", "true"),
        ("(= \"a\" \"a\" \"b\")", "false"),
        ("(not= 1 2)", "true"),
        ("(not nil)", "true"),
        ("(odd? 3)", "true"),
        ("(even? -2)", "true"),
        (
            "(odd? 1.0)",
            "error: `odd?` expected an integer, got float 1.0",
        ),
        ("(zero? 0.0)", "true"),
        ("(pos? -1)", "false"),
        ("(neg? -0.5)", "true"),
        ("(not 0)", "false"),
    ]);
}

#[test]
fn collections() {
    check(&[
        ("(list 1 2)", "(1 2)"),
        ("(vector 1 2)", "[1 2]"),
        ("(vec '(1 2))", "[1 2]"),
        ("(hash-map :b 2 :a 1)", "{:a 1, :b 2}"),
        (
            "(hash-map :a)",
            "error: hash-map takes keys and values in pairs: (hash-map :a 1 :b 2)",
        ),
        ("(hash-set 1 1 2)", "#{1 2}"),
        ("(set [3 3 1])", "#{1 3}"),
        ("(count [1 2 3])", "3"),
        ("(count nil)", "0"),
        ("(count \"héllo\")", "5"),
        ("(count {:a 1})", "1"),
        (
            "(count 5)",
            "error: `count` expected a collection, got int 5",
        ),
        ("(empty? [])", "true"),
        ("(empty? \"x\")", "false"),
        ("(first [1 2])", "1"),
        ("(first nil)", "nil"),
        ("(first \"ab\")", "\"a\""),
        ("(rest [1 2 3])", "(2 3)"),
        ("(rest [])", "()"),
        ("(last [1 2 3])", "3"),
        ("(nth [1 2 3] 1)", "2"),
        ("(nth [1 2 3] 5 :none)", ":none"),
        (
            "(nth [1 2 3] -1)",
            "error: index -1 out of range for a collection of 3",
        ),
        ("(conj [1 2] 3 4)", "[1 2 3 4]"),
        ("(conj '(1 2) 0)", "(0 1 2)"),
        ("(conj nil 1)", "(1)"),
        ("(conj #{1} 2)", "#{1 2}"),
        ("(conj {:a 1} [:b 2])", "{:a 1, :b 2}"),
        (
            "(conj {:a 1} :b)",
            "error: `conj` expected a [key value] pair, got keyword :b",
        ),
        ("(cons 0 [1 2])", "(0 1 2)"),
        ("(into [] '(1 2))", "[1 2]"),
        ("(into {} [[:a 1]])", "{:a 1}"),
        ("(assoc {:a 1} :b 2 :a 3)", "{:a 3, :b 2}"),
        ("(assoc nil :a 1)", "{:a 1}"),
        ("(assoc [1 2] 0 :x)", "[:x 2]"),
        ("(assoc [1 2] 2 :x)", "[1 2 :x]"),
        (
            "(assoc [1 2] 5 :x)",
            "error: index 5 out of range for a collection of 2",
        ),
        ("(dissoc {:a 1 :b 2} :a :c)", "{:b 2}"),
        ("(disj #{1 2} 1)", "#{2}"),
        ("(get {:a 1} :a)", "1"),
        ("(get {:a 1} :b :default)", ":default"),
        ("(get [5 6] 1)", "6"),
        ("(get [5 6] 9)", "nil"),
        ("(get nil :a)", "nil"),
        ("(contains? {:a nil} :a)", "true"),
        ("(contains? #{1} 2)", "false"),
        ("(contains? [5 6] 1)", "true"),
        ("(keys {:a 1 :b 2})", "(:a :b)"),
        ("(vals {:a 1 :b 2})", "(1 2)"),
        ("(keys {})", "nil"),
        ("(range 3)", "(0 1 2)"),
        ("(range 1 4)", "(1 2 3)"),
        ("(range 10 0 -3)", "(10 7 4 1)"),
        ("(range 0)", "()"),
        ("(range 0 1 0)", "error: range: step must not be 0"),
        (
            "(range 100000000)",
            "error: range: more than 1000000 elements",
        ),
        ("(concat [1] '(2) nil #{3})", "(1 2 3)"),
        ("(reverse [1 2 3])", "(3 2 1)"),
        ("(sort [3 1 2])", "(1 2 3)"),
        ("(zipmap [:a :b] [1 2])", "{:a 1, :b 2}"),
    ]);
}

#[test]
fn original_collections_are_unchanged() {
    check(&[
        ("(let [v [1 2] w (conj v 3)] [v w])", "[[1 2] [1 2 3]]"),
        (
            "(let [m {:a 1} n (assoc m :b 2)] [m n])",
            "[{:a 1} {:a 1, :b 2}]",
        ),
        ("(let [m {:a 1} n (dissoc m :a)] [m n])", "[{:a 1} {}]"),
    ]);
}

#[test]
fn higher_order_functions() {
    check(&[
        ("(map inc [1 2 3])", "(2 3 4)"),
        ("(map + [1 2 3] [10 20])", "(11 22)"),
        ("(map (fn [[k v]] k) {:a 1})", "error: bad `fn`: a parameter must be a symbol, not [k v] (destructuring is not supported)"),
        ("(map first {:a 1 :b 2})", "(:a :b)"),
        ("(filter (fn [x] (> x 1)) [1 2 3])", "(2 3)"),
        ("(remove (fn [x] (> x 1)) [1 2 3])", "(1)"),
        ("(reduce + [1 2 3 4])", "10"),
        ("(reduce + 100 [1 2])", "103"),
        ("(reduce + [])", "0"),
        ("(reduce conj [] '(1 2))", "[1 2]"),
        ("(apply + 1 2 [3 4])", "10"),
        ("(apply str [\"a\" \"b\"])", "\"ab\""),
        ("(every? (fn [x] (> x 0)) [1 2])", "true"),
        ("(some (fn [x] (when (> x 1) (* x 10))) [1 2 3])", "20"),
        ("(map 1 [1])", "error: int 1 is not a function"),
        ("(map :a [{:a 1} {:a 2}])", "(1 2)"),
    ]);
}

#[test]
fn strings() {
    check(&[
        ("(str)", "\"\""),
        ("(str \"a\" 1 nil :k [\"q\"])", "\"a1:k[\\\"q\\\"]\""),
        ("(pr-str \"a\" 1)", "\"\\\"a\\\" 1\""),
        ("(subs \"hello\" 1)", "\"ello\""),
        ("(subs \"héllo\" 1 3)", "\"él\""),
        (
            "(subs \"abc\" 2 9)",
            "error: index 9 out of range for a collection of 3",
        ),
        (
            "(subs \"abc\" 2 1)",
            "error: index 1 out of range for a collection of 3",
        ),
        ("(split \"a,b,,c\" \",\")", "[\"a\" \"b\" \"\" \"c\"]"),
        ("(split \"ab\" \"\")", "[\"a\" \"b\"]"),
        ("(join \", \" [1 \"b\" :c])", "\"1, b, :c\""),
        ("(join [1 2])", "\"12\""),
        ("(upper-case \"abc\")", "\"ABC\""),
        ("(lower-case \"ABC\")", "\"abc\""),
        ("(trim \"  x \")", "\"x\""),
        ("(starts-with? \"hello\" \"he\")", "true"),
        ("(ends-with? \"hello\" \"lo\")", "true"),
        ("(includes? \"hello\" \"ell\")", "true"),
        (
            "(upper-case 1)",
            "error: `upper-case` expected a string, got int 1",
        ),
    ]);
}

#[test]
fn output_goes_to_the_sink() {
    let glia = Interpreter::new();
    let out = Rc::new(RefCell::new(String::new()));
    let sink = out.clone();
    glia.set_output(move |t| sink.borrow_mut().push_str(t));
    let v = block_on(
        glia.eval_str(r#"(println "a" 1 "b" nil) (print "x" "y") (newline) (prn "q" :k)"#),
    )
    .unwrap();
    assert_eq!(v, Value::Nil);
    assert_eq!(*out.borrow(), "a 1 b nil\nx y\n\"q\" :k\n");
}

#[test]
fn output_is_discarded_by_default() {
    assert_eq!(show("(println \"nobody hears\")"), "nil");
}

#[test]
fn misc() {
    check(&[
        ("(type 1)", ":int"),
        ("(type 1.0)", ":float"),
        ("(type \"s\")", ":string"),
        ("(type nil)", ":nil"),
        ("(type '(1))", ":list"),
        ("(type [])", ":vector"),
        ("(type {})", ":map"),
        ("(type #{})", ":set"),
        ("(type :k)", ":keyword"),
        ("(type 'x)", ":symbol"),
        ("(type inc)", ":fn"),
        ("(type (fn []))", ":fn"),
        ("(identity 5)", "5"),
        ("(ex-info \"m\" {:a 1})", "{:data {:a 1}, :message \"m\"}"),
        (
            "(ex-info \"m\" 5)",
            "error: `ex-info` expected a map, got int 5",
        ),
        ("(keyword \"k\")", ":k"),
        ("(name :k)", "\"k\""),
        ("(nil? nil)", "true"),
        ("(some? 0)", "true"),
        ("(number? 1.5)", "true"),
        ("(string? \"\")", "true"),
        ("(fn? +)", "true"),
        ("(map? {})", "true"),
        ("(cap? 1)", "false"),
        ("inc", "#<builtin inc>"),
    ]);
}

#[test]
fn every_builtin_has_a_docstring() {
    let glia = Interpreter::new();
    let names = glia.names();
    assert!(names.len() > 80, "{}", names.len());
    for name in &names {
        let doc = glia.doc(name).unwrap_or_default();
        assert!(
            doc.starts_with(&format!("({name}")),
            "`{name}` needs a docstring that starts with a usage line: {doc:?}"
        );
    }
    assert_eq!(
        show("(doc +)"),
        "\"(+ x …): the sum of the numbers; (+) is 0.\""
    );
}

#[test]
fn bytes_are_made_read_and_spelled_on_purpose() {
    check(&[
        (r#"(bytes "hi")"#, r#"#bytes "68 69""#),
        ("(bytes [0 255])", r#"#bytes "00 ff""#),
        (r#"(bytes #bytes "01")"#, r#"#bytes "01""#),
        ("(bytes [256])", "error: bytes: 256 is not a byte (0 to 255)"),
        (
            "(bytes 1)",
            "error: `bytes` expected a string, a vector of integers 0-255, or bytes, got int 1",
        ),
        (r#"(utf8 #bytes "68 69")"#, r#""hi""#),
        (r#"(utf8 (bytes "é"))"#, r#""é""#),
        (
            r#"(utf8 #bytes "ff")"#,
            "error: utf8: the bytes are not UTF-8 text (byte 0 is not); (hex b) or (vec b) shows them",
        ),
        (r#"(utf8 "hi")"#, "error: `utf8` expected bytes, got string \"hi\""),
        (r#"(hex #bytes "0a ff")"#, r#""0aff""#),
        (r#"(hex "0aff")"#, r#"#bytes "0a ff""#),
        (r#"(count #bytes "0a ff")"#, "2"),
        (r#"(vec #bytes "0a ff")"#, "[10 255]"),
        (r#"(nth #bytes "0a ff" 1)"#, "255"),
        (r#"(empty? #bytes "")"#, "true"),
        (r#"(type #bytes "")"#, ":bytes"),
        (r#"(bytes? #bytes "")"#, "true"),
        (r#"(bytes? "")"#, "false"),
        (r#"(= (bytes "ab") #bytes "61 62")"#, "true"),
        (r#"(= (bytes "ab") "ab")"#, "false"),
        (r#"(str #bytes "ab")"#, r##""#bytes \"ab\"""##),
    ]);
}
