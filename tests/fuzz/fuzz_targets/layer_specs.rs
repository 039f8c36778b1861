//! Layer arguments and `/ipfs/` paths: the core's layer parser, its
//! IPFS-source test and the IPFS provider's path parser (see
//! `ww_fuzz_harness::layers`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ww_fuzz_harness::layers::parse(data);
});
