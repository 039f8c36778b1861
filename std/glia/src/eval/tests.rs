//! The evaluator: special forms, closures, `loop`/`recur`, `try`,
//! capabilities, the embedder's hooks, limits, and that nothing
//! accumulates across commands.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use futures::executor::block_on;

use crate::{Arity, Capability, Error, Interpreter, Value, ValueFuture};

fn run(glia: &Interpreter, src: &str) -> Result<Value, Error> {
    block_on(glia.eval_str(src))
}

/// Evaluates `src` in a fresh session; the result printed, or the error.
fn show(src: &str) -> String {
    show_in(&Interpreter::new(), src)
}

fn show_in(glia: &Interpreter, src: &str) -> String {
    match run(glia, src) {
        Ok(v) => v.to_string(),
        Err(e) => format!("error: {e}"),
    }
}

/// Runs `f` on a thread with a 1 MiB stack, as a `wasm32-wasip2` cell has.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// A capability with a few methods, recording its calls; `fail` fails
/// like a broken RPC, `slow` awaits (returns Pending once) before it
/// answers.
struct Host {
    calls: Rc<Cell<usize>>,
}

impl Capability for Host {
    fn name(&self) -> &str {
        "host"
    }

    fn methods(&self) -> Vec<String> {
        ["id", "echo", "fail", "slow"].map(String::from).to_vec()
    }

    fn call(&self, method: &str, args: Vec<Value>) -> ValueFuture {
        self.calls.set(self.calls.get() + 1);
        let method = method.to_string();
        Box::pin(async move {
            match method.as_str() {
                "id" => Ok(Value::str("12D3KooWPeer")),
                "echo" => Ok(Value::vector(args)),
                "slow" => {
                    YieldOnce(false).await;
                    Ok(Value::keyword("done"))
                }
                _ => Err(Error::Capability {
                    cap: "host".into(),
                    method,
                    message: "connection reset".into(),
                }),
            }
        })
    }
}

/// Returns `Pending` once, to prove capability calls really are awaited.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

fn with_host() -> (Interpreter, Rc<Cell<usize>>) {
    let glia = Interpreter::new();
    let calls = Rc::new(Cell::new(0));
    glia.define_cap(Host {
        calls: calls.clone(),
    });
    (glia, calls)
}

#[test]
fn atoms_evaluate_to_themselves() {
    assert_eq!(show("nil"), "nil");
    assert_eq!(show("1.5"), "1.5");
    assert_eq!(show(":k"), ":k");
    assert_eq!(show("\"s\""), "\"s\"");
    assert_eq!(show("()"), "()");
    assert_eq!(show(""), "nil");
}

#[test]
fn collection_literals_evaluate_their_elements() {
    assert_eq!(show("[(+ 1 1) {:a (inc 1)} #{(* 2 2)}]"), "[2 {:a 2} #{4}]");
    assert_eq!(show("'[(+ 1 1)]"), "[(+ 1 1)]");
}

#[test]
fn def_persists_across_forms() {
    let glia = Interpreter::new();
    assert_eq!(show_in(&glia, "(def x 41)"), "41");
    assert_eq!(show_in(&glia, "(inc x)"), "42");
    assert_eq!(show_in(&glia, "(def x \"doc\" 1) x"), "1");
    assert_eq!(show_in(&glia, "(def y)"), "nil");
}

#[test]
fn if_do_quote_and_or_when_cond() {
    assert_eq!(show("(if nil 1 2)"), "2");
    assert_eq!(show("(if false 1)"), "nil");
    assert_eq!(show("(if 0 1 2)"), "1");
    assert_eq!(show("(do 1 2 3)"), "3");
    assert_eq!(show("(do)"), "nil");
    assert_eq!(show("(quote (a b))"), "(a b)");
    assert_eq!(show("(and 1 nil (undefined))"), "nil");
    assert_eq!(show("(and 1 2)"), "2");
    assert_eq!(show("(and)"), "true");
    assert_eq!(show("(or nil false 3 (undefined))"), "3");
    assert_eq!(show("(or)"), "nil");
    assert_eq!(show("(when true 1 2)"), "2");
    assert_eq!(show("(when-not true 1)"), "nil");
    assert_eq!(show("(cond false 1 (= 1 1) 2 :else 3)"), "2");
    assert_eq!(show("(cond false 1)"), "nil");
}

#[test]
fn let_is_sequential_and_lexical() {
    assert_eq!(show("(let [x 1 y (+ x 1)] [x y])"), "[1 2]");
    assert_eq!(show("(let [x 1 x (inc x)] x)"), "2");
    assert_eq!(
        show("(let [x 1 f (fn [] x) x 2] (f))"),
        "1",
        "a closure sees the binding it closed over"
    );
    assert_eq!(
        show("(do (let [z 1] z) z)"),
        "error: unable to resolve symbol `z`"
    );
}

#[test]
fn functions_closures_and_arities() {
    assert_eq!(show("((fn [x y] (* x y)) 6 7)"), "42");
    assert_eq!(
        show("(def add (fn [n] (fn [x] (+ x n)))) ((add 2) 40)"),
        "42"
    );
    assert_eq!(show("((fn [a & more] [a more]) 1 2 3)"), "[1 (2 3)]");
    assert_eq!(show("((fn [a & more] [a more]) 1)"), "[1 nil]");
    assert_eq!(
        show("(defn f \"doc of f\" ([] 0) ([x] x) ([x & r] (count r))) [(f) (f 5) (f 1 2 3)]"),
        "[0 5 2]"
    );
    assert_eq!(show("(defn sq [x] (* x x)) (sq 5)"), "25");
    assert_eq!(show("(defn sq [x] (* x x)) sq"), "#<fn sq>");
    assert_eq!(show("(def g (fn [] 1)) g"), "#<fn g>");
    assert_eq!(show("(fn [] 1)"), "#<fn>");
    assert_eq!(
        show("((fn fact [n] (if (= n 0) 1 (* n (fact (dec n))))) 10)"),
        "3628800",
        "a named fn sees itself"
    );
    assert_eq!(
        show("(defn fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))) (fib 15)"),
        "610"
    );
}

#[test]
fn docstrings_of_defn_and_def() {
    let glia = Interpreter::new();
    run(
        &glia,
        "(defn f \"Adds one.\" [x] (inc x)) (def g \"Gee.\" (fn [] 1))",
    )
    .unwrap();
    assert_eq!(glia.doc("f").as_deref(), Some("Adds one."));
    assert_eq!(glia.doc("g").as_deref(), Some("Gee."));
    assert_eq!(show_in(&glia, "(doc f)"), "\"Adds one.\"");
}

#[test]
fn keywords_maps_and_sets_are_functions() {
    assert_eq!(show("(:a {:a 1})"), "1");
    assert_eq!(show("(:b {:a 1} 9)"), "9");
    assert_eq!(show("({:a 1} :a)"), "1");
    assert_eq!(show("(#{1 2} 2)"), "2");
    assert_eq!(show("(#{1 2} 3)"), "nil");
}

#[test]
fn loop_recur_runs_a_million_iterations_in_constant_space() {
    let out = on_small_stack(|| {
        let glia = Interpreter::new();
        let v = run(
            &glia,
            "(loop [i 0 acc 0] (if (< i 1000000) (recur (inc i) (+ acc i)) acc))",
        )
        .map(|v| v.to_string())
        .map_err(|e| e.to_string());
        (v, glia.stats())
    });
    assert_eq!(out.0.as_deref(), Ok("499999500000"));
    assert_eq!(out.1.depth, 0);
    assert_eq!(out.1.frames, 0, "every loop frame was freed");
}

#[test]
fn recur_to_a_fn_runs_in_constant_space() {
    let out = on_small_stack(|| {
        show("(defn count-down [n] (if (= n 0) :done (recur (dec n)))) (count-down 1000000)")
    });
    assert_eq!(out, ":done");
    assert_eq!(
        show("(defn f [n & acc] (if (= n 0) acc (recur (dec n) (cons n acc)))) (f 3)"),
        "(1 2 3)",
        "recur passes the rest parameter as one value"
    );
}

#[test]
fn recur_must_be_in_tail_position() {
    for src in [
        "(recur 1)",
        "(loop [i 0] (+ 1 (recur i)))",
        "(loop [i 0] (if (recur i) 1 2))",
        "(fn [] (do (recur) 1))",
        "(loop [i 0] (try (recur i)))",
        "(loop [i 0] [(recur i)])",
    ] {
        let glia = Interpreter::new();
        let e = block_on(async {
            let v = glia.eval_str(src).await?;
            // A fn is only checked when called.
            match v {
                Value::Fn(_) => glia.apply(&v, vec![]).await,
                v => Ok(v),
            }
        })
        .expect_err(src);
        assert!(e.to_string().contains("tail position"), "{src}: {e}");
    }
    assert_eq!(
        show("(loop [i 0] (recur))"),
        "error: wrong number of arguments to `recur`: expected 1, got 0"
    );
    assert_eq!(
        show("(loop [i 0] (cond (< i 3) (recur (inc i)) :else i))"),
        "3",
        "cond, when, and, or, let, do pass the tail position on"
    );
    assert_eq!(
        show("(loop [i 0] (let [j (inc i)] (when (< j 5) (recur j))))"),
        "nil"
    );
}

#[test]
fn try_catch_finally_throw() {
    let glia = Interpreter::new();
    let log = Rc::new(RefCell::new(String::new()));
    let sink = log.clone();
    glia.set_output(move |t| sink.borrow_mut().push_str(t));
    assert_eq!(
        show_in(
            &glia,
            "(try (throw (ex-info \"boom\" {:code 7})) (catch e [(ex-message e) (ex-data e)]))"
        ),
        "[\"boom\" {:code 7}]"
    );
    assert_eq!(
        show_in(&glia, "(try (/ 1 0) (catch Exception e (:type e)))"),
        ":divide-by-zero"
    );
    assert_eq!(
        show_in(&glia, "(try (nope) (catch :default e (:message e)))"),
        "\"unable to resolve symbol `nope`\""
    );
    assert_eq!(
        show_in(&glia, "(try 1 (finally (println \"cleanup\")))"),
        "1"
    );
    assert_eq!(
        show_in(
            &glia,
            "(try (throw \"x\") (catch e e) (finally (print \"f\")))"
        ),
        "\"x\""
    );
    assert_eq!(*log.borrow(), "cleanup\nf");
    assert_eq!(
        show_in(&glia, "(throw (ex-info \"bad thing\" {:k 1}))"),
        "error: bad thing {:k 1}"
    );
    assert_eq!(show_in(&glia, "(throw \"plain\")"), "error: plain");
    assert_eq!(
        show_in(
            &glia,
            "(try (throw 1) (catch e (throw (ex-info \"again\"))))"
        ),
        "error: again"
    );
}

#[test]
fn exit_is_not_caught() {
    let glia = Interpreter::new();
    glia.define_fn("exit", "", Arity::between(0, 1), |_, a| {
        Err(Error::Exit(
            a.first().map_or(Ok(0), |c| crate::core::int("exit", c))? as i32,
        ))
    });
    let r = run(&glia, "(try (exit 3) (catch e :caught))");
    assert!(matches!(r, Err(Error::Exit(3))), "{r:?}");
}

#[test]
fn capabilities_are_values() {
    let (glia, calls) = with_host();
    assert_eq!(show_in(&glia, "(host id)"), "\"12D3KooWPeer\"");
    assert_eq!(show_in(&glia, "(host :id)"), "\"12D3KooWPeer\"");
    assert_eq!(show_in(&glia, "(host echo (+ 1 2) \"hi\")"), "[3 \"hi\"]");
    assert_eq!(
        show_in(&glia, "(str \"I am \" (host id) \"!\")"),
        "\"I am 12D3KooWPeer!\"",
        "a call awaits inside an expression"
    );
    assert_eq!(show_in(&glia, "(host slow)"), ":done");
    assert_eq!(show_in(&glia, "(let [h host] (h id))"), "\"12D3KooWPeer\"");
    assert_eq!(
        show_in(&glia, "(map (fn [m] (host echo m)) [1 2])"),
        "([1] [2])"
    );
    assert_eq!(show_in(&glia, "(apply host [:echo 1])"), "[1]");
    assert_eq!(show_in(&glia, "host"), "#<cap host>");
    assert_eq!(show_in(&glia, "(type host)"), ":cap");
    let before = calls.get();
    assert_eq!(
        show_in(&glia, "(host nope)"),
        "error: capability `host` has no method `nope`; its methods: id echo fail slow"
    );
    assert_eq!(calls.get(), before, "an unknown method is not sent");
    assert_eq!(
        show_in(&glia, "(host fail)"),
        "error: host.fail failed: connection reset"
    );
    assert_eq!(
        show_in(&glia, "(try (host fail) (catch e (:type e)))"),
        ":capability"
    );
    assert!(show_in(&glia, "(host)").contains("call one of its methods"));
    assert!(show_in(&glia, "(host 1)").contains("a method name"));
    assert_eq!(
        show_in(&glia, "(host id)"),
        "\"12D3KooWPeer\"",
        "still usable"
    );
    // One method a line, described where the capability can.
    assert_eq!(
        glia.doc("host").unwrap(),
        "capability `host`; methods:\n  id\n  echo\n  fail\n  slow"
    );
    run(&glia, "(def h2 host) (def n 1)").unwrap();
    let caps: Vec<String> = glia.caps().into_iter().map(|(name, _)| name).collect();
    assert_eq!(caps, ["h2", "host"]);
}

#[test]
fn unknown_head_symbols_go_to_the_resolver() {
    let glia = Interpreter::new();
    let asked = Rc::new(RefCell::new(Vec::<String>::new()));
    let log = asked.clone();
    glia.set_resolver(move |_, name| {
        log.borrow_mut().push(name.to_string());
        (name == "ls").then(|| {
            Value::native_async("ls", "runs /bin/ls", Arity::at_least(0), |_, args| {
                Box::pin(async move { Ok(Value::list(args)) })
            })
        })
    });
    assert_eq!(show_in(&glia, "(ls \"/bin\" (+ 1 1))"), "(\"/bin\" 2)");
    assert_eq!(
        show_in(&glia, "(frob 1)"),
        "error: unable to resolve symbol `frob`"
    );
    assert_eq!(
        show_in(&glia, "ls"),
        "error: unable to resolve symbol `ls`",
        "only the head of a list falls back"
    );
    assert_eq!(show_in(&glia, "(let [ls (fn [] :local)] (ls))"), ":local");
    assert_eq!(*asked.borrow(), ["ls", "frob"]);
}

#[test]
fn embedder_functions_sync_and_async() {
    let glia = Interpreter::new();
    glia.define_fn("twice", "(twice x)", Arity::exactly(1), |_, a| {
        Ok(Value::vector(vec![a[0].clone(), a[0].clone()]))
    });
    glia.define_async_fn("later", "(later f)", Arity::exactly(1), |glia, args| {
        Box::pin(async move {
            YieldOnce(false).await;
            glia.apply(&args[0], vec![Value::Int(41)]).await
        })
    });
    assert_eq!(show_in(&glia, "(twice :x)"), "[:x :x]");
    assert_eq!(show_in(&glia, "(later inc)"), "42");
    assert_eq!(
        show_in(&glia, "(twice)"),
        "error: wrong number of arguments to `twice`: expected 1, got 0"
    );
    assert_eq!(glia.doc("twice").as_deref(), Some("(twice x)"));
    assert!(glia.names().contains(&"later".to_string()));
}

#[test]
fn errors_are_values_and_the_session_goes_on() {
    let glia = Interpreter::new();
    run(&glia, "(def x 1)").unwrap();
    for (src, message) in [
        (
            "(+ 1",
            "syntax error at 1:1: unexpected end of input: `(` opened at 1:1 is not closed",
        ),
        (")", "syntax error at 1:1: unexpected `)`"),
        (
            "(undefined-thing)",
            "unable to resolve symbol `undefined-thing`",
        ),
        (
            "(inc)",
            "wrong number of arguments to `inc`: expected 1, got 0",
        ),
        (
            "((fn [a b] a) 1)",
            "wrong number of arguments to `fn`: expected 2, got 1",
        ),
        ("(+ 1 \"a\")", "`+` expected a number, got string \"a\""),
        ("(1 2)", "int 1 is not a function"),
        (
            "(let [x] x)",
            "bad `let`: bindings need a value for every name: (let [name value …] body…)",
        ),
        (
            "(if)",
            "bad `if`: takes a test and one or two branches: (if test then else)",
        ),
        (
            "(fn [1] 1)",
            "bad `fn`: a parameter must be a symbol, not 1 (destructuring is not supported)",
        ),
        ("(/ 1 0)", "divide by zero"),
        ("(* 9223372036854775807 2)", "integer overflow in `*`"),
        ("(nth [1] 5)", "index 5 out of range for a collection of 1"),
    ] {
        let e = run(&glia, src).expect_err(src);
        assert_eq!(e.to_string(), message, "{src}");
        assert_eq!(glia.stats().depth, 0, "{src}");
        assert_eq!(run(&glia, "x").unwrap(), Value::Int(1), "after {src}");
    }
    assert!(run(&glia, "(+ 1").unwrap_err().is_incomplete());
    assert!(!run(&glia, ")").unwrap_err().is_incomplete());
    assert!(
        matches!(
            run(&glia, "(def y 2) (nope) (def z 3)"),
            Err(Error::Unbound(_))
        ),
        "forms after a failing one do not run"
    );
    assert_eq!(glia.lookup("y"), Some(Value::Int(2)));
    assert_eq!(glia.lookup("z"), None);
}

#[test]
fn runaway_recursion_is_an_error_not_a_crash() {
    let (message, stats) = on_small_stack(|| {
        let glia = Interpreter::new();
        let e = run(&glia, "(defn f [n] (+ 1 (f n))) (f 0)").unwrap_err();
        (e.to_string(), glia.stats())
    });
    assert!(message.contains("nested too deeply"), "{message}");
    assert_eq!((stats.depth, stats.frames), (0, 0));
    // Through `map`, which the machine runs itself.
    let message = on_small_stack(|| {
        let glia = Interpreter::new();
        run(&glia, "(defn g [n] (first (map g [n]))) (g 0)")
            .unwrap_err()
            .to_string()
    });
    assert!(message.contains("nested too deeply"), "{message}");
    // Through an embedder's async function calling back into Glia: each
    // call nests a machine on the host stack, so the nesting is capped.
    let (message, stats) = on_small_stack(|| {
        let glia = Interpreter::new();
        glia.define_async_fn("call", "(call f x)", Arity::exactly(2), |glia, args| {
            Box::pin(async move { glia.apply(&args[0], vec![args[1].clone()]).await })
        });
        let e = run(&glia, "(defn r [n] (+ 1 (call r n))) (r 0)").unwrap_err();
        (e.to_string(), glia.stats())
    });
    assert!(message.contains("nested too deeply"), "{message}");
    assert_eq!((stats.depth, stats.frames), (0, 0));
}

#[test]
fn recursion_through_map_is_as_deep_as_any() {
    let out = on_small_stack(|| {
        let glia = Interpreter::new();
        run(
            &glia,
            "(defn depth [t] (if (vector? t) (inc (apply max 0 (map depth t))) 0))
             (def tree (loop [i 0 t :leaf] (if (< i 2000) (recur (inc i) [1 t]) t)))
             [(depth tree) (reduce + (map (fn [x] (count (filter odd? (range x)))) [10 20]))]",
        )
        .map(|v| v.to_string())
        .map_err(|e| e.to_string())
    });
    assert_eq!(out.as_deref(), Ok("[2000 15]"));
}

#[test]
fn deep_recursion_does_not_use_the_host_stack() {
    // On a 1 MiB stack, in a debug build: the machine's frames are on the
    // heap.
    let out = on_small_stack(|| {
        let glia = Interpreter::new();
        let deep = run(
            &glia,
            "(defn down [n] (if (= n 0) 0 (+ 1 (down (dec n))))) (down 20000)",
        )
        .map(|v| v.to_string())
        .map_err(|e| e.to_string());
        let depth = crate::reader::MAX_NESTING;
        let src = "(inc ".repeat(depth) + "0" + &")".repeat(depth);
        let nested = run(&glia, &src)
            .map(|v| v.to_string())
            .map_err(|e| e.to_string());
        let nested_literal = run(&glia, &("[".repeat(depth) + &"]".repeat(depth)))
            .map(|v| v.to_string().len())
            .map_err(|e| e.to_string());
        (deep, nested, nested_literal, glia.stats())
    });
    assert_eq!(out.0.as_deref(), Ok("20000"));
    assert_eq!(out.1.as_deref(), Ok("1000"), "deeply nested source text");
    assert!(out.2.is_ok(), "deeply nested literal: {:?}", out.2);
    assert_eq!((out.3.depth, out.3.frames), (0, 0));
}

#[test]
fn tail_calls_run_in_constant_space() {
    let out = on_small_stack(|| {
        let glia = Interpreter::new();
        glia.set_depth_limit(50);
        run(
            &glia,
            "(defn ev? [n] (if (= n 0) true (od? (dec n))))
             (defn od? [n] (if (= n 0) false (ev? (dec n))))
             [(ev? 100000) (od? 7) (let [x 1] (ev? 10))]",
        )
        .map(|v| v.to_string())
        .map_err(|e| e.to_string())
    });
    assert_eq!(out.as_deref(), Ok("[true true true]"));
}

#[test]
fn the_depth_limit_is_adjustable() {
    let glia = Interpreter::new();
    glia.set_depth_limit(20);
    assert_eq!(glia.depth_limit(), 20);
    run(&glia, "(defn down [n] (if (= n 0) 0 (+ 1 (down (dec n)))))").unwrap();
    assert_eq!(run(&glia, "(down 3)").unwrap(), Value::Int(3));
    assert!(matches!(run(&glia, "(down 30)"), Err(Error::Depth(_))));
    let e = run(&glia, "(try (down 30) (catch e (:type e)))").unwrap();
    assert_eq!(e, Value::keyword("depth"), "a depth error can be caught");
    let v = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            let glia = Interpreter::new();
            glia.set_depth_limit(100_000);
            glia.set_stack_budget(128 << 20);
            run(
                &glia,
                "(defn down [n] (if (= n 0) 0 (+ 1 (down (dec n))))) (down 3000)",
            )
            .map(|v| v.to_string())
            .map_err(|e| e.to_string())
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(v.as_deref(), Ok("3000"), "deeper with a bigger stack");
}

#[test]
fn ten_thousand_commands_leave_no_residue() {
    let (glia, _) = with_host();
    let out = Rc::new(Cell::new(0usize));
    let n = out.clone();
    glia.set_output(move |t| n.set(n.get() + t.len()));
    run(&glia, "(def counter 0) (defn bump [x] (+ x 1))").unwrap();
    let baseline = glia.stats();
    let commands = [
        "(def counter (bump counter))",
        "(let [a 1 b [a a]] (map inc b))",
        "(loop [i 0] (if (< i 10) (recur (inc i)) i))",
        "(try (throw (ex-info \"x\" {})) (catch e e))",
        "(undefined)",
        "(+ 1",
        "(host id)",
        "(host fail)",
        "((fn [& xs] xs) 1 2 3)",
        "(println \"hi\")",
    ];
    for i in 0..10_000 {
        let _ = run(&glia, commands[i % commands.len()]);
        let stats = glia.stats();
        assert_eq!(stats, baseline, "after command {i}");
    }
    assert_eq!(run(&glia, "counter").unwrap(), Value::Int(1_000));
    assert_eq!(out.get(), 3 * 1_000);
}

#[test]
fn a_dropped_evaluation_leaves_no_residue() {
    let (glia, _) = with_host();
    let before = glia.stats();
    {
        let mut fut = Box::pin(glia.eval_str("(let [a 1] (+ a (count [(host slow)])))"));
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert!(glia.stats().depth > 0);
        // Dropped mid-call, as on Ctrl-C.
    }
    assert_eq!(glia.stats(), before);
    assert_eq!(
        run(&glia, "(+ 1 (count [(host slow)]))").unwrap(),
        Value::Int(2)
    );
}

#[test]
fn special_forms_need_no_core_library() {
    let glia = Interpreter::empty();
    assert_eq!(show_in(&glia, "(let [x 1] (if x [x] nil))"), "[1]");
    assert_eq!(
        show_in(&glia, "(+ 1 2)"),
        "error: unable to resolve symbol `+`"
    );
}

#[test]
fn long_computations_yield_and_can_be_interrupted() {
    let glia = Interpreter::new();
    // Polled by hand: a long loop returns Pending now and then.
    let mut pendings = 0;
    {
        let mut fut = Box::pin(glia.eval_str("(loop [i 0] (if (< i 100000) (recur (inc i)) i))"));
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        loop {
            match fut.as_mut().poll(&mut cx) {
                std::task::Poll::Pending => pendings += 1,
                std::task::Poll::Ready(v) => {
                    assert_eq!(v.unwrap(), Value::Int(100_000));
                    break;
                }
            }
        }
    }
    assert!(pendings > 10, "{pendings}");

    // A watcher running beside the evaluation interrupts it; `try` does
    // not catch the interruption.
    let watcher = glia.clone();
    let (result, ()) = block_on(futures::future::join(
        glia.eval_str("(try (loop [i 0] (recur (inc i))) (catch e :caught))"),
        async move {
            for _ in 0..3 {
                YieldOnce(false).await;
            }
            watcher.interrupt();
        },
    ));
    assert!(matches!(result, Err(Error::Interrupted)), "{result:?}");
    assert_eq!(glia.stats().depth, 0);
    assert_eq!(
        run(&glia, "(+ 1 2)").unwrap(),
        Value::Int(3),
        "the next form runs"
    );
}
