//! The Atom contract: its ABI for the stem and its compiled bytecode.
//!
//! The Solidity source is `contracts/Atom.sol`; `contracts/Atom.bin` is its
//! creation bytecode as `solcjs --bin --optimize` prints it (a test
//! recompiles the source and compares).
#![allow(missing_docs)]

alloy::sol! {
    /// An owned, monotonic head pointer (see `contracts/Atom.sol`).
    contract Atom {
        /// The head moved to `cid`; `seq` is the new sequence number.
        event HeadUpdated(uint64 indexed seq, address indexed writer, bytes cid);
        /// `setHead` by an account that is not the owner.
        error NotOwner(address caller);
        /// `setHead` with the current head or an empty one.
        error Unchanged();
        /// The current sequence number and head.
        function head() external view returns (uint64, bytes memory);
        /// Moves the head (owner only; refuses a no-op).
        function setHead(bytes calldata newCid) external;
        /// The only account that may move the head.
        function owner() external view returns (address);
    }
}

/// The creation bytecode, hex as solcjs writes it.
pub const BYTECODE_HEX: &str = include_str!("../contracts/Atom.bin");

/// The creation bytecode.
pub fn bytecode() -> Vec<u8> {
    hex::decode(BYTECODE_HEX.trim()).expect("contracts/Atom.bin is hex (checked by a test)")
}
