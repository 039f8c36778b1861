//! `bench-loop N`: N rounds of integer arithmetic and nothing else, then
//! the result: the work that tells an interpreter (Pulley) from native
//! code, with the cell's start a small part of the time.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(rounds) = std::env::args().nth(1).and_then(|n| n.parse::<u64>().ok()) else {
        eprintln!("usage: bench-loop ROUNDS");
        return ExitCode::from(2);
    };
    let mut x: u64 = 1;
    for i in 0..rounds {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
    }
    println!("{x}");
    ExitCode::SUCCESS
}
