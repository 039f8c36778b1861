//! Recognising revoked capabilities.
//!
//! When an epoch ends, every capability handed out in it fails with a
//! `failed` error whose description starts with `staleEpoch` and names the
//! current epoch; the cell should graft again. capnp-rpc may prefix the
//! description (`remote exception: ...`).

/// The marker the host puts at the start of a stale-epoch description.
const MARKER: &str = "staleEpoch";

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
///
/// Understands the host's wording, `staleEpoch: capability from epoch 1 was
/// revoked; current epoch is 2; graft again`, and the shorter form in
/// `membrane.capnp`, `staleEpoch: epoch 1 has ended (current 2); graft again`.
pub fn stale_epoch(err: &capnp::Error) -> Option<u64> {
    parse(&err.extra)
}

fn parse(description: &str) -> Option<u64> {
    let rest = &description[description.find(MARKER)? + MARKER.len()..];
    let after = &rest[rest.find("current")? + "current".len()..];
    let digits = after.trim_start_matches(|c: char| !c.is_ascii_digit());
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
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
    fn schema_wording() {
        assert_eq!(
            parse("staleEpoch: epoch 1 has ended (current 2); graft again"),
            Some(2)
        );
    }

    #[test]
    fn other_errors_are_not_stale() {
        assert_eq!(parse("remote exception: boom"), None);
        assert_eq!(parse("current epoch is 3"), None);
        assert_eq!(parse("staleEpoch: no number here"), None);
        assert_eq!(parse(""), None);
    }
}
