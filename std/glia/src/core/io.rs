//! Output: `println`, `print`, `prn`, `newline`. They write to the
//! embedder's sink ([`Interpreter::set_output`]), never to stdout directly,
//! so the kernel decides where a cell's output goes.

use crate::eval::Interpreter;
use crate::printer::{pr_str, print_str};
use crate::value::{Arity, Value};

fn joined(args: &[Value], show: fn(&Value) -> String) -> String {
    args.iter().map(show).collect::<Vec<_>>().join(" ")
}

pub(super) fn install(i: &Interpreter) {
    let any = Arity::at_least(0);
    i.define_fn(
        "println",
        "(println x …): writes the arguments (strings as text) separated by spaces, then a newline; returns nil.",
        any,
        |i, a| {
            i.write(&(joined(a, print_str) + "\n"));
            Ok(Value::Nil)
        },
    );
    i.define_fn(
        "print",
        "(print x …): like println without the newline.",
        any,
        |i, a| {
            i.write(&joined(a, print_str));
            Ok(Value::Nil)
        },
    );
    i.define_fn(
        "prn",
        "(prn x …): writes the arguments readably (strings quoted), then a newline.",
        any,
        |i, a| {
            i.write(&(joined(a, pr_str) + "\n"));
            Ok(Value::Nil)
        },
    );
    i.define_fn(
        "newline",
        "(newline): writes a newline.",
        Arity::exactly(0),
        |i, _| {
            i.write("\n");
            Ok(Value::Nil)
        },
    );
}
