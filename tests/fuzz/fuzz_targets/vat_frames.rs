//! Frames a hostile cell writes into its RPC vat, read by the host's real
//! vat (its read limits and the cell's budget), membrane and epoch guard
//! (see `ww_fuzz_harness::frames`). The host must never panic, whatever
//! the bytes; a malformed message drops the vat.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ww_fuzz_harness::frames::serve(data);
});
