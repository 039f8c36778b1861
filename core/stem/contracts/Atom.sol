// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Atom: an owned, monotonic head pointer.
/// @notice Nodes started with `ww run --stem <address>` follow this contract:
/// every `HeadUpdated` event that reaches the node's confirmation depth makes
/// the new head (a binary CID) the base image layer and starts a new epoch.
contract Atom {
    /// The only account that may move the head.
    address public immutable owner;

    /// Increments by one on every head change; 0 before the first.
    uint64 public seq;

    /// The current head: a CID in its binary form (empty before the first).
    bytes private cid;

    /// The head moved to `cid`; `seq` is the new sequence number.
    event HeadUpdated(uint64 indexed seq, address indexed writer, bytes cid);

    /// `setHead` by an account that is not the owner.
    error NotOwner(address caller);
    /// `setHead` with the current head or an empty one.
    error Unchanged();

    constructor() {
        owner = msg.sender;
    }

    /// The current sequence number and head.
    function head() external view returns (uint64, bytes memory) {
        return (seq, cid);
    }

    /// Moves the head to `newCid` (owner only). Refuses a no-op: the same
    /// head again, or an empty one.
    function setHead(bytes calldata newCid) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (newCid.length == 0 || keccak256(newCid) == keccak256(cid)) revert Unchanged();
        seq += 1;
        cid = newCid;
        emit HeadUpdated(seq, msg.sender, newCid);
    }
}
