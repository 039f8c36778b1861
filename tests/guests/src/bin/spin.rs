//! A child that never stops computing (no I/O at all): the executor tests
//! use it to show a CPU budget stops it while its siblings run on.

fn main() {
    let mut x: u64 = 1;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}
