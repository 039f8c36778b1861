//! Compiles the fixture's own schema as `ww init --provider` projects do:
//! the generated code names `capnp` through the SDK (`capnp_root`), and
//! the compiler's request is kept so the provider can export the
//! interface's schema node.

use std::process::Command;

fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed=schema/fixture.capnp");
    let compiled = Command::new("capnp")
        .args([
            "compile",
            "-o",
            "-",
            "--src-prefix=schema",
            "schema/fixture.capnp",
        ])
        .env_remove("PWD")
        .output()
        .unwrap_or_else(|e| panic!("cannot run the `capnp` compiler ({e}): scripts/setup.sh"));
    assert!(
        compiled.status.success(),
        "capnp compile schema/fixture.capnp failed:\n{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    std::fs::write(out.join("fixture.bin"), &compiled.stdout).expect("write the request");
    capnpc::codegen::CodeGenerationCommand::new()
        .output_directory(&out)
        .capnp_root("::ww_provider_sdk::capnp")
        .run(compiled.stdout.as_slice())
        .expect("generate Rust code from schema/fixture.capnp");
}
