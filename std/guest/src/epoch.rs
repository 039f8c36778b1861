//! Recognising revoked capabilities.
//!
//! When an epoch ends, every capability handed out in it fails with a
//! `failed` error carrying a [`StaleEpoch`] (the host writes it with the
//! codec this reads it with); the cell should graft again.

use ww_capnp::StaleEpoch;

/// The marker the host puts at the start of the description of a call on
/// a provider process that is down (it exited, crashed or was killed).
const DOWN: &str = "providerDown";

/// Whether `err` says the call's provider process is down: the host names
/// it and how it ended, and restarts it (unless told not to); a graft
/// after the restart hands out the restarted provider's capabilities.
pub fn provider_down(err: &capnp::Error) -> bool {
    err.extra.contains(DOWN)
}

/// The current epoch, if `err` says the capability was revoked because its
/// epoch ended; `None` for any other error.
pub fn stale_epoch(err: &capnp::Error) -> Option<u64> {
    StaleEpoch::from_error(err).map(|stale| stale.current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_down_is_recognised() {
        let e = capnp::Error::failed(
            "remote exception: providerDown: provider `kv` (pid 7) was killed by signal 9 \
             (SIGKILL); ww restarts it: graft again for its new capabilities"
                .into(),
        );
        assert!(provider_down(&e));
        assert_eq!(stale_epoch(&e), None);
        assert!(!provider_down(&capnp::Error::failed("other".into())));
    }

    #[test]
    fn host_wording() {
        let e = capnp::Error::failed(
            "staleEpoch: capability from epoch 1 was revoked; current epoch is 2; graft again"
                .into(),
        );
        assert_eq!(stale_epoch(&e), Some(2));
    }

    #[test]
    fn prefixed_by_capnp_rpc() {
        let e = capnp::Error::failed(
            "remote exception: staleEpoch: capability from epoch 7 was revoked; \
             current epoch is 12; graft again"
                .into(),
        );
        assert_eq!(stale_epoch(&e), Some(12));
    }

    #[test]
    fn other_errors_are_not_stale() {
        assert_eq!(
            stale_epoch(&capnp::Error::failed("remote exception: boom".into())),
            None
        );
        assert_eq!(
            stale_epoch(&capnp::Error::failed("current epoch is 3".into())),
            None
        );
    }
}
