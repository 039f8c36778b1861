//! The smallest cell: pure WASI, no vat. Used for start-up benchmarks.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("hello from a cell");
    println!("args: {}", args.join(" "));
}
