//! Capabilities as values: the trait an embedder implements to put a
//! capability (a Cap'n Proto client, a test double, …) into Glia.
//!
//! `(host id)` evaluates `host`; when that is a [`Value::Cap`], the next
//! symbol (or keyword) is the method's name, not evaluated, and the rest are
//! arguments, evaluated. The call is awaited inside the expression, so
//! `(str "I am " (host id))` works.
//!
//! [`Value::Cap`]: crate::Value::Cap

use crate::value::{Value, ValueFuture};

/// A capability that Glia code can call.
///
/// Single-threaded, like everything in a cell: neither the capability nor
/// the futures it returns need be `Send`.
///
/// # Examples
///
/// ```
/// use ww_glia::{Capability, Error, Value, ValueFuture};
///
/// struct Echo;
///
/// impl Capability for Echo {
///     fn name(&self) -> &str {
///         "echo"
///     }
///     fn methods(&self) -> Vec<String> {
///         vec!["say".into()]
///     }
///     fn call(&self, method: &str, args: Vec<Value>) -> ValueFuture {
///         let method = method.to_string();
///         Box::pin(async move {
///             match method.as_str() {
///                 "say" => Ok(Value::vector(args)),
///                 _ => Err(Error::NoMethod {
///                     cap: "echo".into(),
///                     method,
///                     methods: vec!["say".into()],
///                 }),
///             }
///         })
///     }
/// }
/// ```
pub trait Capability {
    /// Its name, as bound in the shell (`host`), for printing and errors.
    fn name(&self) -> &str;

    /// The names of its methods, in schema order.
    fn methods(&self) -> Vec<String>;

    /// Calls `method` with evaluated `args`.
    ///
    /// The future owns what it needs (clone the client into it): it may
    /// outlive the borrow of `self`.
    ///
    /// # Errors
    ///
    /// [`Error::NoMethod`](crate::Error::NoMethod) for an unknown method,
    /// [`Error::Capability`](crate::Error::Capability) when the call fails,
    /// [`Error::Argument`](crate::Error::Argument) for arguments that do
    /// not fit its parameters (nothing sent).
    ///
    /// # Cancel safety
    ///
    /// The interpreter drops the future when the evaluation is dropped
    /// (e.g. on Ctrl-C); a call that was sent may still run remotely.
    fn call(&self, method: &str, args: Vec<Value>) -> ValueFuture;

    /// A one-line description of `method` for `help`, if there is one.
    fn describe(&self, method: &str) -> Option<String> {
        let _ = method;
        None
    }

    /// The embedder's own type behind the trait, so that a capability passed
    /// back as an argument (`(executor spawn … [host])`) can be recognised
    /// and unwrapped; `None` by default.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}
