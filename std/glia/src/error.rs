//! Everything that can go wrong reading or evaluating Glia, as values.
//!
//! An error ends the evaluation of the current top-level form and nothing
//! else: the interpreter is ready for the next one. `try`/`catch` turns any
//! error but [`Error::Exit`] and [`Error::Interrupted`] into a map (see
//! [`Error::to_value`]).

use std::fmt;

use crate::value::Value;

/// A failure to read source text, with the 1-based line and column where
/// it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// What is wrong, e.g. ``unexpected `)` ``.
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The input ended inside a form (an unclosed `(` or string): more
    /// input could complete it. A REPL asks for another line instead of
    /// reporting the error.
    pub incomplete: bool,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ReadError {}

/// A Glia error.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Error {
    /// The source text could not be read.
    #[error("syntax error at {0}")]
    Read(ReadError),
    /// A symbol has no binding, and no embedder resolver claimed it.
    #[error("unable to resolve symbol `{0}`")]
    Unbound(String),
    /// A function got the wrong number of arguments.
    #[error("wrong number of arguments to `{name}`: expected {expected}, got {got}")]
    Arity {
        /// The function (or special form).
        name: String,
        /// What it takes, e.g. `2` or `1 or more`.
        expected: String,
        /// What it got.
        got: usize,
    },
    /// A value of the wrong kind.
    #[error("`{name}` expected {expected}, got {got}")]
    Type {
        /// The function or form that complained.
        name: String,
        /// What it wanted, e.g. `a number`.
        expected: String,
        /// What it got: the value's type and printed form.
        got: String,
    },
    /// A special form written wrongly, e.g. `(let [x] x)`.
    #[error("bad `{form}`: {message}")]
    Syntax {
        /// The special form.
        form: String,
        /// What is wrong and how it should look.
        message: String,
    },
    /// The head of a list is not something that can be called.
    #[error("{0} is not a function")]
    NotCallable(String),
    /// Division (or `mod`, `quot`, `rem`) by zero.
    #[error("divide by zero")]
    DivideByZero,
    /// Integer arithmetic overflowed 64 bits.
    #[error("integer overflow in `{0}`")]
    Overflow(String),
    /// An index out of a collection's range.
    #[error("index {index} out of range for a collection of {len}")]
    Index {
        /// The index asked for.
        index: i64,
        /// The collection's length.
        len: usize,
    },
    /// Evaluation nested deeper than the interpreter's depth limit or
    /// stack budget allow (usually unbounded recursion); holds the depth
    /// reached.
    #[error("evaluation nested too deeply ({0} levels): unbounded recursion?")]
    Depth(usize),
    /// A capability has no method of that name.
    #[error("capability `{cap}` has no method `{method}`; its methods: {}", methods.join(" "))]
    NoMethod {
        /// The capability's name.
        cap: String,
        /// The method asked for.
        method: String,
        /// The methods it has.
        methods: Vec<String>,
    },
    /// A capability method was given arguments that do not fit its
    /// parameters (one missing, too many, or of the wrong type); nothing
    /// was sent.
    #[error("{cap}.{method}: {message}")]
    Argument {
        /// The capability's name.
        cap: String,
        /// The method.
        method: String,
        /// What is wrong, naming the parameter and its type.
        message: String,
    },
    /// A capability call failed (e.g. the RPC failed, the epoch went stale).
    #[error("{cap}.{method} failed: {message}")]
    Capability {
        /// The capability's name.
        cap: String,
        /// The method.
        method: String,
        /// What went wrong.
        message: String,
    },
    /// A value thrown by `throw`, usually an `ex-info` map.
    #[error("{}", thrown_message(.0))]
    Thrown(Value),
    /// Any other failure of a native function, with its message.
    #[error("{0}")]
    Native(String),
    /// Not a failure: the embedder's `exit` function asks to end the
    /// session with this status. `try` does not catch it.
    #[error("exit {0}")]
    Exit(i32),
    /// The evaluation was interrupted ([`Interpreter::interrupt`], e.g. on
    /// Ctrl-C). `try` does not catch it.
    ///
    /// [`Interpreter::interrupt`]: crate::Interpreter::interrupt
    #[error("interrupted")]
    Interrupted,
}

fn thrown_message(v: &Value) -> String {
    if let Value::Str(s) = v {
        return s.to_string();
    }
    if let Value::Map(m) = v {
        if let Some(Value::Str(msg)) = m.get(&Value::keyword("message")) {
            return match m.get(&Value::keyword("data")) {
                Some(data) if !matches!(data, Value::Nil) => format!("{msg} {data}"),
                _ => msg.to_string(),
            };
        }
    }
    format!("uncaught: {v}")
}

impl Error {
    /// A type error: `name` expected `expected` and got `got`.
    pub fn type_error(name: &str, expected: &str, got: &Value) -> Error {
        let mut shown = crate::printer::pr_str(got);
        if shown.chars().count() > 60 {
            shown = shown.chars().take(57).collect::<String>() + "...";
        }
        Error::Type {
            name: name.into(),
            expected: expected.into(),
            got: format!("{} {shown}", got.type_name()),
        }
    }

    /// A syntax error in the special form `form`.
    pub fn syntax(form: &str, message: impl Into<String>) -> Error {
        Error::Syntax {
            form: form.into(),
            message: message.into(),
        }
    }

    /// Whether more input could complete the source (an unclosed form).
    pub fn is_incomplete(&self) -> bool {
        matches!(self, Error::Read(e) if e.incomplete)
    }

    /// Whether `try` may catch it (everything but [`Error::Exit`] and
    /// [`Error::Interrupted`]).
    pub fn is_catchable(&self) -> bool {
        !matches!(self, Error::Exit(_) | Error::Interrupted)
    }

    /// A short keyword naming the kind of error: `:unbound`, `:arity`, …
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Read(_) => "read",
            Error::Unbound(_) => "unbound",
            Error::Arity { .. } => "arity",
            Error::Type { .. } => "type",
            Error::Syntax { .. } => "syntax",
            Error::NotCallable(_) => "not-callable",
            Error::DivideByZero => "divide-by-zero",
            Error::Overflow(_) => "overflow",
            Error::Index { .. } => "index",
            Error::Depth(_) => "depth",
            Error::NoMethod { .. } => "no-method",
            Error::Argument { .. } => "argument",
            Error::Capability { .. } => "capability",
            Error::Thrown(_) => "thrown",
            Error::Native(_) => "native",
            Error::Exit(_) => "exit",
            Error::Interrupted => "interrupted",
        }
    }

    /// The value `catch` binds: a thrown value as it was thrown, any other
    /// error as `{:message "…" :type :kind}`.
    pub fn to_value(&self) -> Value {
        match self {
            Error::Thrown(v) => v.clone(),
            other => Value::map([
                (Value::keyword("message"), Value::str(other.to_string())),
                (Value::keyword("type"), Value::keyword(other.kind())),
            ]),
        }
    }
}

impl From<ReadError> for Error {
    fn from(e: ReadError) -> Error {
        Error::Read(e)
    }
}
