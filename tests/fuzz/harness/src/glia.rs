//! Glia source as a shell user (local or remote, or an `etc/init.d` script)
//! types it: read, then evaluated by a fresh interpreter, with every
//! result printed. Nothing in it may panic.
//!
//! The evaluator has no fuel counter; it yields to its executor every
//! `YIELD_EVERY` steps and then honours `interrupt()`, as Ctrl-C does. The
//! harness uses that as its step budget: after `YIELDS` yields it
//! interrupts, so an input that loops forever costs a bounded number of
//! steps and ends with `Interrupted`, the way a shell session would.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};

use ww_glia::{Capability, Error, Interpreter, Value, ValueFuture};

/// Yields (each after `YIELD_EVERY` steps) before the harness interrupts.
const YIELDS: usize = 8;

/// A capability that answers with its arguments, so `(echo m …)` runs the
/// capability-call path without I/O.
struct Echo;

impl Capability for Echo {
    fn name(&self) -> &str {
        "echo"
    }
    fn methods(&self) -> Vec<String> {
        vec!["say".into(), "fail".into()]
    }
    fn call(&self, method: &str, args: Vec<Value>) -> ValueFuture {
        let method = method.to_string();
        Box::pin(async move {
            match method.as_str() {
                "say" => Ok(Value::vector(args)),
                "fail" => Err(Error::Capability {
                    cap: "echo".into(),
                    method,
                    message: "refused".into(),
                }),
                _ => Err(Error::NoMethod {
                    cap: "echo".into(),
                    method,
                    methods: vec!["say".into(), "fail".into()],
                }),
            }
        })
    }
}

/// Reads and evaluates one input (UTF-8 Glia source; anything else is
/// skipped).
pub fn read_eval(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let glia = Interpreter::new();
    glia.define_cap(Echo);
    glia.set_output(|text| {
        std::hint::black_box(text);
    });
    let mut eval = pin!(glia.eval_str(src));
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut yields = 0;
    let result = loop {
        match eval.as_mut().poll(&mut cx) {
            Poll::Ready(result) => break result,
            Poll::Pending => {
                yields += 1;
                if yields == YIELDS {
                    glia.interrupt();
                }
                assert!(yields <= YIELDS + 1, "evaluation ignored its interrupt");
            }
        }
    };
    match result {
        Ok(value) => {
            std::hint::black_box((ww_glia::pr_str(&value), ww_glia::print_str(&value)));
        }
        Err(e) => {
            std::hint::black_box(e.to_string());
        }
    }
}
