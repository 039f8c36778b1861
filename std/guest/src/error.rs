//! What can go wrong before a cell's `main` runs, or under it.

use std::fmt;

/// A failure of the cell's connection to its host.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// `wetware:rpc/transport.connect` failed: the host refused the vat
    /// (e.g. the cell called `connect` twice), with the host's reason.
    Connect(String),
    /// The RPC vat ended with an error: the host closed it or rejected what
    /// the cell sent.
    Vat(capnp::Error),
    /// The host closed the vat while the cell still needed it.
    VatClosed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Connect(reason) => write!(f, "the host refused the RPC vat: {reason}"),
            Error::Vat(e) => write!(f, "the RPC vat failed: {e}"),
            Error::VatClosed => f.write_str("the host closed the RPC vat before the cell finished"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Vat(e) => Some(e),
            _ => None,
        }
    }
}
