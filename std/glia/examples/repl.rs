//! A minimal Glia REPL over stdin and stdout: the smallest real embedder.
//!
//! ```sh
//! echo '(defn sq [x] (* x x)) (map sq (range 5))' | cargo run -p ww-glia --example repl
//! ```
//!
//! It reads lines until they make complete forms (an unclosed `(` waits
//! for the next line), evaluates them, and prints each result readably, or
//! `error: …` and goes on. `(exit n)` ends it with status `n`. It also
//! builds for `wasm32-wasip2`, as a cell.

use std::io::{BufRead, Write};

use futures::executor::block_on;
use ww_glia::{Arity, Error, Interpreter, Value};

fn main() -> std::process::ExitCode {
    let glia = Interpreter::new();
    glia.set_output(|text| {
        print!("{text}");
        let _ = std::io::stdout().flush();
    });
    glia.define_fn(
        "exit",
        "(exit code?): ends the REPL with status code (0).",
        Arity::between(0, 1),
        |_, args| match args.first() {
            None => Err(Error::Exit(0)),
            Some(Value::Int(code)) => Err(Error::Exit(*code as i32)),
            Some(other) => Err(Error::type_error("exit", "an integer", other)),
        },
    );
    let mut pending = String::new();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        pending.push_str(&line);
        pending.push('\n');
        match block_on(glia.eval_str(&pending)) {
            Err(e) if e.is_incomplete() => continue,
            Err(Error::Exit(code)) => return std::process::ExitCode::from(code as u8),
            Ok(value) => println!("{value}"),
            Err(e) => println!("error: {e}"),
        }
        pending.clear();
    }
    std::process::ExitCode::SUCCESS
}
