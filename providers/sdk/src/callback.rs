//! Calling back into a cell, with a bound on the wait.
//!
//! A provider may hold a capability a cell passed it (a sink for results,
//! a handler to notify) and call it. The cell answers only when its own
//! code runs: a cell that is itself waiting for this provider's answer,
//! or busy, or gone quiet, never does. A provider method that *awaits*
//! such a callback before it returns therefore deadlocks with a cell that
//! is blocked on that same method. Two rules avoid it (docs/providers.md
//! has the longer story):
//!
//! - answer the cell's call first, and make callbacks from a task of
//!   their own ([`spawn_local`](crate::spawn_local)), so nothing the cell
//!   waits for waits on the cell;
//! - bound every wait on a callback with [`within`], so a cell that never
//!   answers costs the provider a timeout, not a task forever.

use std::future::Future;
use std::time::Duration;

/// How long [`within`] callers usually give a cell to answer: long enough
/// for a busy cell on a loaded node, short enough that a stuck one is
/// noticed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Awaits `call` (a callback into a cell: a request's `promise`, a
/// stream's `write`), failing with a clear error when it has not
/// answered within `limit`. `what` names the callback in that error.
///
/// Must run on a tokio runtime with its time driver enabled, as every
/// provider does (built in, library or process).
///
/// # Errors
///
/// `call`'s own error, or a `failed` error naming `what` and the limit
/// when the cell did not answer in time.
pub async fn within<T>(
    what: &str,
    limit: Duration,
    call: impl Future<Output = Result<T, capnp::Error>>,
) -> Result<T, capnp::Error> {
    match tokio::time::timeout(limit, call).await {
        Ok(result) => result,
        Err(_) => Err(capnp::Error::failed(format!(
            "callback {what} got no answer within {limit:?}: the cell may be waiting for this \
             provider itself; answer the cell's call before calling it back"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_callback_that_never_answers_fails_naming_it() {
        let never = futures::future::pending::<Result<(), capnp::Error>>();
        let err = within("Sink.push", Duration::from_millis(20), never)
            .await
            .unwrap_err();
        assert!(err.extra.contains("Sink.push"), "{err}");
        assert!(err.extra.contains("20ms"), "{err}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_answer_in_time_is_passed_through() {
        let answer = async { Ok::<_, capnp::Error>(7) };
        assert_eq!(within("x", DEFAULT_TIMEOUT, answer).await.unwrap(), 7);
        let failed = async { Err::<(), _>(capnp::Error::failed("no".into())) };
        assert_eq!(
            within("x", DEFAULT_TIMEOUT, failed)
                .await
                .unwrap_err()
                .extra,
            "no"
        );
    }
}
