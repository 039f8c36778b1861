//! dag-pb / UnixFS blocks from a peer or an IPFS layer, read back through
//! the IPFS provider's reader (`kind_of`, `ls`, `resolve`, `open`,
//! `stream_file`) over a real blockstore (see `ww_fuzz_harness::blocks`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ww_fuzz_harness::blocks::read(data);
});
