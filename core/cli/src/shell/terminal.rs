//! The shell on a terminal: rustyline for line editing and history, the
//! `/ ❯ ` prompt showing the working directory, Ctrl-C to interrupt the
//! running evaluation (the node goes on), Ctrl-D to leave.
//!
//! rustyline blocks, so it runs on a thread of its own and evaluates
//! through the [`Evaluator`]; the node's runtime meanwhile listens for
//! SIGINT, which arrives only while an evaluation runs (at the prompt the
//! terminal is in raw mode and Ctrl-C is a key rustyline handles).
//!
//! Input typed or pasted while an evaluation runs waits in the terminal
//! and is read after it, line by line (rustyline keeps what it read past
//! a line for the next prompt); each top-level form of what was entered
//! is evaluated and shown in turn, so a pasted block prints every
//! result, not only the last.

use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;
use tokio::sync::oneshot;

use super::{Evaluated, Evaluator, Outcome};

/// The prompt for a working directory.
pub fn prompt(cwd: &str) -> String {
    format!("{cwd} ❯ ")
}

/// The prompt of a continuation line (an unclosed form).
const MORE: &str = "… ";

/// Runs the terminal until Ctrl-D or `(exit n)`; returns the exit status.
pub async fn run(evaluator: Evaluator, cwd: String) -> i32 {
    // Listen for SIGINT before the prompt can appear: a Ctrl-C typed right
    // after the first Enter must interrupt, not kill ww with the default
    // action. One listener for the session, so no SIGINT falls between two.
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    let (done, status) = oneshot::channel();
    let editor = evaluator.clone();
    std::thread::spawn(move || {
        let _ = done.send(edit(&editor, cwd));
    });
    let mut status = status;
    loop {
        let interrupted = async {
            match sigint.as_mut() {
                Some(sigint) => sigint.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            code = &mut status => return code.unwrap_or(1),
            signal = interrupted => {
                if signal.is_none() {
                    return status.await.unwrap_or(1);
                }
                evaluator.interrupt();
            }
        }
    }
}

fn edit(evaluator: &Evaluator, mut cwd: String) -> i32 {
    let mut editor = match DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot use the terminal: {e}");
            return 1;
        }
    };
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() {
            prompt(&cwd)
        } else {
            MORE.to_string()
        };
        let line = match editor.readline(&prompt) {
            Ok(line) => line,
            // Ctrl-C at the prompt drops the line being typed.
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => return 0,
            Err(e) => {
                eprintln!("error: reading the terminal failed: {e}");
                return 1;
            }
        };
        pending.push_str(&line);
        pending.push('\n');
        let Some(forms) = forms(&pending) else {
            continue;
        };
        if !pending.trim().is_empty() {
            let _ = editor.add_history_entry(pending.trim_end());
        }
        pending.clear();
        for form in forms {
            let evaluated = match evaluator.eval_blocking(&form) {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("error: the shell is unreachable: {e}");
                    return 1;
                }
            };
            if let Some(code) = show(&evaluated) {
                return code;
            }
            cwd = evaluated.cwd;
        }
    }
}

/// The top-level forms of `source`, each to evaluate and show in turn;
/// `None` when it ends inside a form (more lines may complete it). Source
/// that does not read goes whole, for the shell to report the error.
pub fn forms(source: &str) -> Option<Vec<String>> {
    match ww_glia::reader::forms(source) {
        Err(e) if e.incomplete => None,
        Ok(forms) => Some(forms.into_iter().map(str::to_string).collect()),
        Err(_) => Some(vec![source.to_string()]),
    }
}

/// Prints what an evaluation printed and its value (`nil` is not shown),
/// or `error: …` on stderr, the way the kernel's own shell does; returns
/// the status `(exit n)` asked for.
pub fn show(evaluated: &Evaluated) -> Option<i32> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(evaluated.output.as_bytes());
    let code = match &evaluated.outcome {
        Outcome::Value(v) if v == "nil" => None,
        Outcome::Value(v) => {
            let _ = writeln!(stdout, "{v}");
            None
        }
        Outcome::Error(e) => {
            let _ = stdout.flush();
            eprintln!("error: {e}");
            None
        }
        Outcome::Exit(code) => Some(*code),
        Outcome::Incomplete => None,
    };
    let _ = stdout.flush();
    code
}
