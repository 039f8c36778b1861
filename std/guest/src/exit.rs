//! Exiting with a status code the host can see.
//!
//! `std::process::exit(3)` on `wasm32-wasip2` reaches the host as plain
//! "failure" (status 1): WASI 0.2's `exit` takes a `result`. [`exit`] uses
//! `wasi:cli/exit.exit-with-code` instead, which keeps the code.

mod bindings {
    wit_bindgen::generate!({
        world: "wasi:cli/exit-code",
        path: "wit/cli",
        features: ["cli-exit-with-code"],
    });
}

/// Ends the cell with `code` as its exit status.
///
/// Flushes stdout first (`exit-with-code` does not return, so buffered
/// output would be lost). The host must link `exit-with-code` (ww does);
/// a host that does not refuses to start a cell that calls this.
pub fn exit(code: u8) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    bindings::wasi::cli::exit::exit_with_code(code);
    // `exit-with-code` does not return; if a host ever did, fail loudly.
    std::process::exit(i32::from(code))
}
