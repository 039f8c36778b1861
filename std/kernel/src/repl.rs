//! The shell over stdin: read lines until they make complete forms,
//! evaluate each top-level form in turn, print each result (`nil` is not
//! printed), or `error: …` on stderr and go on.

use futures::io::{AsyncBufReadExt, BufReader};
use ww_glia::{Error, Value};

use crate::session::Session;

/// How the read loop ended.
pub enum End {
    /// `(exit n)`.
    Exit(i32),
    /// End of input after some was read.
    Eof,
    /// Stdin was closed before anything was read: run as a daemon.
    Closed,
}

/// Prints a value or an error the way the shell shows them.
pub fn show(session: &Session, result: &Result<Value, Error>) {
    match result {
        Ok(Value::Nil) => {}
        Ok(v) => session.output.write(&format!("{v}\n")),
        Err(e) => eprintln!("error: {e}"),
    }
}

/// Reads and evaluates stdin until `(exit)` or end of input.
///
/// Stdin is read without blocking the cell: while it waits for a line, the
/// `Shell` it exports and its services' output keep being served.
pub async fn run(session: &Session) -> End {
    let mut stdin = BufReader::new(ww_guest::io::stdin());
    let mut pending = String::new();
    let mut read_any = false;
    loop {
        let mut line = String::new();
        match stdin.read_line(&mut line).await {
            Ok(0) | Err(_) => {
                if !pending.trim().is_empty() {
                    eprintln!("error: the input ended inside a form: {}", pending.trim());
                }
                return if read_any { End::Eof } else { End::Closed };
            }
            Ok(_) => read_any = true,
        }
        pending.push_str(&line);
        let forms: Vec<String> = match ww_glia::reader::forms(&pending) {
            Err(e) if e.incomplete => continue,
            Ok(forms) => forms.into_iter().map(str::to_string).collect(),
            // Evaluating it reports the syntax error.
            Err(_) => vec![pending.clone()],
        };
        pending.clear();
        for form in forms {
            let _turn = session.turn.lock().await;
            let result = session.eval(&form).await;
            if let Err(Error::Exit(code)) = result {
                return End::Exit(code);
            }
            show(session, &result);
        }
    }
}
