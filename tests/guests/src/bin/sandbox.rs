//! Probes the sandbox: what a cell must not reach, and the little it may.
//! Pure WASI, no vat.

use std::fmt::Display;

fn main() {
    probe("read-passwd", std::fs::read("/etc/passwd"));
    probe("write-image", std::fs::write("/boot/main.wasm", b"x"));
    probe("create-file", std::fs::write("/pwned", b"x"));
    match std::env::var("WW_SECRET") {
        Err(std::env::VarError::NotPresent) => println!("env-secret: denied (not present)"),
        _ => println!("env-secret: ALLOWED"),
    }
    probe("socket", std::net::TcpStream::connect("127.0.0.1:9"));
    match std::fs::read("/boot/main.wasm") {
        Ok(bytes) => println!("read-image: ok {}", bytes.len()),
        Err(e) => println!("read-image: denied ({e})"),
    }
    let given = std::env::var("WW_GIVEN").unwrap_or_else(|_| "absent".to_string());
    println!("env-given: {given}");
}

fn probe<T, E: Display>(name: &str, result: Result<T, E>) {
    match result {
        Ok(_) => println!("{name}: ALLOWED"),
        Err(e) => println!("{name}: denied ({e})"),
    }
}
