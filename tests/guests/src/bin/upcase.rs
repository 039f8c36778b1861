//! A child for the executor tests: copies stdin to stdout in upper case,
//! reports the byte count on stderr, and exits with the status in argv[1].

use std::io::{Read, Write};

fn main() {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("upcase: cannot read stdin: {e}");
        ww_guest::exit(1);
    }
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(input.to_uppercase().as_bytes());
    let _ = stdout.flush();
    eprintln!("upcase: {} bytes", input.len());
    let code = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    ww_guest::exit(code);
}
