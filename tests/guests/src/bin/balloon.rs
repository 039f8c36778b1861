//! A child that allocates without bound (1 MiB at a time, touching every
//! page): a memory limit must stop it.
//!
//! With an argument N it first fills N MiB, prints `full`, and holds them
//! until its stdin ends; only then does it go on without bound. So a parent
//! can keep many hogs alive at once (and a test can look at the node's
//! memory meanwhile) before letting each run into its limit.

use std::io::Write;

fn main() {
    let mut held: Vec<Vec<u8>> = Vec::new();
    if let Some(mib) = std::env::args()
        .nth(1)
        .and_then(|a| a.parse::<usize>().ok())
    {
        for _ in 0..mib {
            held.push(vec![1u8; 1 << 20]);
        }
        std::hint::black_box(&held);
        println!("full");
        let _ = std::io::stdout().flush();
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
    }
    loop {
        held.push(vec![1u8; 1 << 20]);
        std::hint::black_box(&held);
    }
}
