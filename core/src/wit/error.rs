//! Cap'n Proto exceptions as the typed WIT `error`.
//!
//! The epoch guard fails revoked calls with a `failed` exception carrying a
//! [`StaleEpoch`] (see [`epoch::stale`](crate::epoch::stale)); here it
//! becomes the `stale-epoch` case, so a guest matches on a type instead of
//! a string.

use ww_capnp::StaleEpoch;
use ww_provider_sdk::capnp::{Error, ErrorKind};

use super::wetware::types::errors::{Error as WitError, Host, Stale};
use super::WitCtxView;

/// `errors` has types only.
impl Host for WitCtxView<'_> {}

/// The WIT error for `e`.
pub fn to_wit(e: &Error) -> WitError {
    if let Some(StaleEpoch { issued, current }) = StaleEpoch::from_error(e) {
        return WitError::StaleEpoch(Stale { issued, current });
    }
    let text = e.extra.clone();
    match e.kind {
        ErrorKind::Overloaded => WitError::Overloaded(text),
        ErrorKind::Disconnected => WitError::Disconnected(text),
        ErrorKind::Unimplemented => WitError::Unimplemented(text),
        _ => WitError::Failed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guards_wording_is_stale_epoch() {
        match to_wit(&crate::epoch::stale(3, 5)) {
            WitError::StaleEpoch(Stale { issued, current }) => {
                assert_eq!((issued, current), (3, 5));
            }
            other => panic!("not stale: {other:?}"),
        }
    }

    #[test]
    fn other_failures_keep_their_kind_and_text() {
        match to_wit(&Error::overloaded("busy".into())) {
            WitError::Overloaded(t) => assert_eq!(t, "busy"),
            other => panic!("{other:?}"),
        }
        match to_wit(&Error::failed("remote exception: boom".into())) {
            WitError::Failed(t) => assert_eq!(t, "remote exception: boom"),
            other => panic!("{other:?}"),
        }
    }
}
