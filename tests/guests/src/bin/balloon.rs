//! A child that allocates without bound (1 MiB at a time, touching every
//! page): a memory limit must stop it.

fn main() {
    let mut held: Vec<Vec<u8>> = Vec::new();
    loop {
        held.push(vec![1u8; 1 << 20]);
        std::hint::black_box(&held);
    }
}
