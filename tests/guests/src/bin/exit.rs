//! Exits with the status in argv[1] (0–255), to test how the host reports it.

fn main() {
    match std::env::args().nth(1).map(|s| s.parse::<u8>()) {
        Some(Ok(status)) => ww_guest::exit(status),
        _ => {
            eprintln!("usage: exit STATUS (0-255)");
            ww_guest::exit(2);
        }
    }
}
