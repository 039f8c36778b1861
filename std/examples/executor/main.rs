#![doc = include_str!("README.md")]

use ww_guest::wit;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let caps = wit::graft()?;
    if std::env::args().nth(1).as_deref() == Some("child") {
        println!("granted [{}]", caps.names.join(", "));
        return Ok(());
    }
    println!("parent: granted [{}]", caps.names.join(", "));

    let executor = caps.executor.ok_or("this node grants no executor")?;
    // args[0] is the wasm's path in the node's image; no root: no files.
    let args = ["/boot/main.wasm".to_string(), "child".to_string()];
    let pass = ["identity".to_string()];
    let limits = wit::Limits {
        max_memory_bytes: 64 << 20,
        cpu_millis: 0,
    };
    let child = executor.spawn(&args, &[], &pass, limits, "")?;
    let said = child.stdout()?.read_to_end(4096)?;
    print!("child: {}", String::from_utf8_lossy(&said));
    let exit = child.wait()?;
    println!(
        "child exited with {} after {} µs of CPU",
        exit.code, exit.cpu_micros
    );
    Ok(())
}
