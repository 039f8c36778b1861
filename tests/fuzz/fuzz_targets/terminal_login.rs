//! Terminal logins from a remote peer: the challenge–response the real
//! `TerminalServer` runs over a vat, with the peer's bytes or its signer's
//! answers taken from the input (see `ww_fuzz_harness::login`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ww_fuzz_harness::login::login(data);
});
