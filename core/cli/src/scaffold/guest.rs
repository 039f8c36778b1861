//! The guest project: a cell that signs a message and spawns a child,
//! through the guest SDK's typed WIT imports.

use super::toml_string;

/// The project's files, by path, for the crate `name` depending on the
/// guest SDK at `sdk` (as the manifest spells it).
pub(super) fn files(name: &str, sdk: &str) -> Vec<(String, String)> {
    vec![
        ("Cargo.toml".to_string(), manifest(name, sdk)),
        ("src/main.rs".to_string(), MAIN.replace("{name}", name)),
        (".gitignore".to_string(), "/target\n/boot\n".to_string()),
        ("README.md".to_string(), README.replace("{name}", name)),
    ]
}

fn manifest(name: &str, sdk: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"

[dependencies]
ww-guest = {{ path = {sdk} }}

# A project of its own: no workspace around it claims it.
[workspace]
"#,
        sdk = toml_string(sdk)
    )
}

/// The project's `src/main.rs`.
const MAIN: &str = r#"//! {name}: a ww cell. It signs a message with the node's key (the key never
//! enters WASM) and spawns a child cell, through typed WIT imports.
//!
//!     ww build {name} && ww run {name}

use ww_guest::wit;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The child: this same program, started by the parent below.
    if std::env::args().nth(1).as_deref() == Some("child") {
        println!("hello from the child");
        return Ok(());
    }

    // Everything this cell may use, guarded by the node's current epoch.
    let caps = wit::graft()?;

    let identity = caps.identity.ok_or("this node grants no identity")?;
    let signer = identity.signer("{name}")?;
    let signature = signer.sign(b"hello", caps.epoch.seq)?;
    let hex: String = signature.iter().map(|b| format!("{b:02x}")).collect();
    println!("signed \"hello\" in epoch {}: {hex}", caps.epoch.seq);

    // A child gets nothing but what it is given: here, no capabilities and
    // no file system.
    let executor = caps.executor.ok_or("this node grants no executor")?;
    let args = ["/boot/main.wasm".to_string(), "child".to_string()];
    let limits = wit::Limits { max_memory_bytes: 0, cpu_millis: 0 };
    let child = executor.spawn(&args, &[], &[], limits, "")?;
    let said = child.stdout()?.read_to_end(4096)?;
    print!("child said: {}", String::from_utf8_lossy(&said));
    println!("child exited with {}", child.wait()?.code);
    Ok(())
}
"#;

/// The project's `README.md`.
const README: &str = r#"# {name}

A ww cell. `src/main.rs` signs a message with the node's key and spawns a
child cell, through the typed WIT imports of the guest SDK (`ww_guest::wit`).

```sh
ww build {name}   # builds src/main.rs for wasm32-wasip2 into {name}/boot/main.wasm
ww run {name}     # boots it as pid0 of a node
```

The SDK's RPC vat (`ww_guest::run`, `ww_guest::graft`) reaches the same
capabilities over Cap'n Proto, plus capability passing across the network
and third-party providers.
"#;
