//! Why the stem cannot follow (or write) an Atom.

/// A failure of the stem. Every message says what was wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StemError {
    /// A URL or address that does not parse.
    #[error("{what} `{value}` is not valid ({reason})")]
    Usage {
        /// Which setting.
        what: &'static str,
        /// What was given.
        value: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The RPC endpoint did not answer.
    #[error("cannot reach the chain at {url}: {reason}; check --rpc-url / --ws-url and that the node is running")]
    Unreachable {
        /// The endpoint.
        url: String,
        /// The transport's error.
        reason: String,
    },
    /// No contract is deployed at the stem address.
    #[error("no contract code at {address} on the chain at {url} (chain id {chain_id}); is --stem the Atom's address on this chain?")]
    NoContract {
        /// The `--stem` address.
        address: String,
        /// The RPC endpoint asked.
        url: String,
        /// The chain it serves.
        chain_id: u64,
    },
    /// The contract at the address does not answer `head()` like an Atom.
    #[error("the contract at {address} is not an Atom: head() {reason}")]
    NotAtom {
        /// The `--stem` address.
        address: String,
        /// What went wrong with the call.
        reason: String,
    },
    /// A call the stem needed failed.
    #[error("{call} failed on the chain at {url}: {reason}")]
    Rpc {
        /// The JSON-RPC method or contract call.
        call: &'static str,
        /// The endpoint.
        url: String,
        /// The transport's or node's error.
        reason: String,
    },
    /// The persisted cursor cannot be read or written.
    #[error("stem cursor {path}: {reason}")]
    Cursor {
        /// The cursor file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A transaction was refused or reverted.
    #[error("{0}")]
    Transaction(String),
}
