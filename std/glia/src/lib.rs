//! Glia: the Clojure-flavoured language of the ww shell, where capabilities
//! are values. Pure Rust, no I/O of its own: the embedder (the kernel, or a
//! test) supplies the capabilities, the output sink, extra built-ins and the
//! fallback for unknown commands, and drives the evaluation's futures.
//!
//! A complete embedding:
//!
//! ```
//! use std::{cell::RefCell, rc::Rc};
//! use ww_glia::{Arity, Capability, Error, Interpreter, Value, ValueFuture};
//!
//! /// A stand-in for the node's `host` capability.
//! struct Host;
//!
//! impl Capability for Host {
//!     fn name(&self) -> &str {
//!         "host"
//!     }
//!     fn methods(&self) -> Vec<String> {
//!         vec!["id".into()]
//!     }
//!     fn call(&self, _method: &str, _args: Vec<Value>) -> ValueFuture {
//!         // A real capability awaits a Cap'n Proto call here.
//!         Box::pin(async { Ok(Value::str("12D3KooW…")) })
//!     }
//! }
//!
//! let glia = Interpreter::new();
//! glia.define_cap(Host);
//!
//! // println goes where the embedder says.
//! let out = Rc::new(RefCell::new(String::new()));
//! let sink = out.clone();
//! glia.set_output(move |text| sink.borrow_mut().push_str(text));
//!
//! // An extra built-in, as the kernel adds `cd`, `help` and `exit`.
//! glia.define_fn("exit", "(exit code?): ends the session.", Arity::between(0, 1), |_, args| {
//!     match args.first() {
//!         Some(Value::Int(code)) => Err(Error::Exit(*code as i32)),
//!         _ => Err(Error::Exit(0)),
//!     }
//! });
//!
//! // Unknown head symbols: the kernel runs `/bin/<name>` as a child cell.
//! glia.set_resolver(|_, name| {
//!     (name == "echo").then(|| {
//!         Value::native("echo", "", Arity::at_least(0), |_, args| {
//!             Ok(Value::str(ww_glia::print_str(&Value::vector(args.to_vec()))))
//!         })
//!     })
//! });
//!
//! let run = |src: &str| futures::executor::block_on(glia.eval_str(src));
//! assert_eq!(run("(host id)").unwrap(), Value::str("12D3KooW…"));
//! assert_eq!(run("(def n 6) (* n 7)").unwrap().to_string(), "42");
//! run(r#"(println "I am" (host id))"#).unwrap();
//! assert_eq!(*out.borrow(), "I am 12D3KooW…\n");
//! assert_eq!(run(r#"(echo "hi")"#).unwrap(), Value::str(r#"["hi"]"#));
//!
//! // Errors are values; the session goes on.
//! assert!(run("(+ 1").unwrap_err().is_incomplete());
//! assert_eq!(run("(nope)").unwrap_err().to_string(), "unable to resolve symbol `nope`");
//! assert!(matches!(run("(exit 3)"), Err(Error::Exit(3))));
//! assert_eq!(run("n").unwrap(), Value::Int(6));
//! ```
//!
//! Where to look:
//!
//! - [`reader`]: text to [`Value`]s, with line:column errors and
//!   [`ReadError::incomplete`] for a REPL's continuation lines;
//! - [`Value`], [`Arity`]: the data; [`Capability`]: the trait a capability
//!   implements to be called as `(cap method args…)`;
//! - [`Interpreter`]: a session — `eval`, `eval_str`, `apply`, the embedder's
//!   hooks, the depth limit;
//! - [`printer`]: values to text (`pr-str` and `str` styles);
//! - [`Error`]: every failure, typed, with a clear message.
//!
//! The language: `nil`, booleans, 64-bit integers, floats, strings, bytes
//! (`#bytes "0a ff"`, a kind of their own, never text), keywords, symbols, lists, vectors, maps, sets; the special forms `def`,
//! `defn`, `fn` (closures, several arities, `& rest`), `let`, `if`, `do`,
//! `quote`, `loop`/`recur` (checked tail position), `try`/
//! `catch`/`finally`/`throw` (with `ex-info` maps), `and`, `or`, `when`,
//! `when-not`, `cond`; and a core library of arithmetic, comparison,
//! collections, strings and output, each function with a docstring
//! (`(doc map)`).
//!
//! Evaluation keeps its own stack on the heap: deep recursion does not
//! touch the host's (small, in a cell) stack, runaway recursion is an
//! [`Error::Depth`], and `loop`/`recur` and tail calls run in constant
//! space.

#![deny(missing_docs)]

mod cap;
mod core;
mod env;
mod error;
mod eval;
pub mod printer;
pub mod reader;
mod value;

pub use cap::Capability;
pub use error::{Error, ReadError};
pub use eval::{
    Interpreter, Stats, DEFAULT_DEPTH_LIMIT, DEFAULT_STACK_BUDGET, MAX_NESTED_RUNS, YIELD_EVERY,
};
pub use printer::{pr_str, print_str};
pub use reader::{read_all, Reader};
pub use value::{Arity, Lambda, Native, Value, ValueFuture};
