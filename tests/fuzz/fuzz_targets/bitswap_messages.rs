//! Bitswap messages from a peer: the bytes of an inbound stream, read and
//! acted on by the IPFS provider's real Bitswap engine (see
//! `ww_fuzz_harness::bitswap`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ww_fuzz_harness::bitswap::receive(data);
});
