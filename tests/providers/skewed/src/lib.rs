//! A provider library as an older SDK would have built it: it announces an
//! incompatible fingerprint (ABI 0, another rustc, no schemas) and nothing
//! else. The loader must refuse it before calling anything else, with a
//! message naming both sides.

use std::ffi::c_char;

/// The fingerprint an old SDK would announce.
const FINGERPRINT: &std::ffi::CStr = c"ww-provider abi=0 sdk=0.0.1 rustc=1.80.0 target=x86_64-unknown-linux-gnu schemas=0000000000000000";

/// The loader reads this first; see `ww_provider_sdk::fingerprint`.
#[no_mangle]
pub extern "C" fn ww_provider_fingerprint() -> *const c_char {
    FINGERPRINT.as_ptr()
}
