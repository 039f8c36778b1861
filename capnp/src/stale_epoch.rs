//! `staleEpoch`: how a call on a capability whose epoch ended fails.
//!
//! Cap'n Proto exceptions carry a kind and a text only, so the epoch guard
//! writes a [`StaleEpoch`] into a `failed` exception's description and
//! everyone who must recognise it (the WIT error mapping, the guest SDK, the
//! remote shell) reads it back here. One codec on both sides means the
//! wording can change without a reader silently missing it. The text is
//! the one `membrane.capnp` documents:
//! `staleEpoch: capability from epoch 1 was revoked; current epoch is 2;
//! graft again`.

use std::fmt;

/// The word a stale-epoch description starts with.
pub const MARKER: &str = "staleEpoch";

const ISSUED: &str = ": capability from epoch ";
const CURRENT: &str = " was revoked; current epoch is ";

/// A call failed because its capability was handed out in an epoch that
/// has ended: graft again for capabilities of the current one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaleEpoch {
    /// The epoch the capability was handed out in.
    pub issued: u64,
    /// The node's epoch when the call failed.
    pub current: u64,
}

impl StaleEpoch {
    /// The exception the epoch guard fails the call with.
    pub fn to_error(self) -> capnp::Error {
        capnp::Error::failed(self.to_string())
    }

    /// The stale epoch `err` reports, if it is one.
    pub fn from_error(err: &capnp::Error) -> Option<StaleEpoch> {
        StaleEpoch::parse(&err.extra)
    }

    /// Reads the description back, wherever it starts in `text`: capnp-rpc
    /// prefixes an error that crossed a vat (`remote exception: …`).
    pub fn parse(text: &str) -> Option<StaleEpoch> {
        let rest = &text[text.find(MARKER)? + MARKER.len()..];
        let (issued, rest) = number(rest.strip_prefix(ISSUED)?)?;
        let (current, _) = number(rest.strip_prefix(CURRENT)?)?;
        Some(StaleEpoch { issued, current })
    }
}

/// The decimal number at the start of `text`, and what follows it.
fn number(text: &str) -> Option<(u64, &str)> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    Some((text[..end].parse().ok()?, &text[end..]))
}

impl fmt::Display for StaleEpoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{MARKER}{ISSUED}{}{CURRENT}{}; graft again",
            self.issued, self.current
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_wording() {
        let stale = StaleEpoch {
            issued: 1,
            current: 2,
        };
        assert_eq!(
            stale.to_string(),
            "staleEpoch: capability from epoch 1 was revoked; current epoch is 2; graft again"
        );
        assert_eq!(StaleEpoch::from_error(&stale.to_error()), Some(stale));
    }

    #[test]
    fn prefixed_by_capnp_rpc() {
        let e = capnp::Error::failed(
            "remote exception: staleEpoch: capability from epoch 7 was revoked; \
             current epoch is 12; graft again"
                .into(),
        );
        assert_eq!(
            StaleEpoch::from_error(&e),
            Some(StaleEpoch {
                issued: 7,
                current: 12
            })
        );
    }

    #[test]
    fn other_errors_are_not_stale() {
        assert_eq!(StaleEpoch::parse("remote exception: boom"), None);
        assert_eq!(StaleEpoch::parse("current epoch is 3"), None);
        assert_eq!(StaleEpoch::parse("staleEpoch: no number here"), None);
        assert_eq!(
            StaleEpoch::parse("staleEpoch: capability from epoch x was revoked"),
            None
        );
        assert_eq!(StaleEpoch::parse(""), None);
    }
}
