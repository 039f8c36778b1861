//! Exits with the status in argv[1], to test how the host reports it.

fn main() {
    let status = std::env::args().nth(1).map(|s| s.parse::<i32>());
    match status {
        Some(Ok(status)) => std::process::exit(status),
        _ => {
            eprintln!("usage: exit STATUS (an integer)");
            std::process::exit(2);
        }
    }
}
