//! Compiles the schemas. Providers and the node agree through Cap'n Proto's
//! own rules (type ids, schema evolution) and the provider protocol number
//! in `provider.capnp`, never through the schemas' text.

const SCHEMAS: &[&str] = &[
    "membrane.capnp",
    "identity.capnp",
    "system.capnp",
    "ipfs.capnp",
    "routing.capnp",
    "dht.capnp",
    "provider.capnp",
    "wire.capnp",
    "shell.capnp",
];

fn main() {
    let mut cmd = capnpc::CompilerCommand::new();
    cmd.src_prefix("schema")
        // `schema.capnp` (for `Export.schema`) is generated inside `capnp`.
        .crate_provides("capnp", [0xa93f_c509_624c_72d9]);
    for name in SCHEMAS {
        let path = format!("schema/{name}");
        println!("cargo:rerun-if-changed={path}");
        cmd.file(&path);
    }
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    // Every node, for `Export.schema` and for introspection (see src/schema.rs).
    cmd.raw_code_generator_request_path(format!("{out}/schemas.bin"));
    if let Err(e) = cmd.run() {
        panic!(
            "compiling the Cap'n Proto schemas failed: {e}\n\
             ww needs the `capnp` compiler and its standard schemas: \
             run `scripts/setup.sh` (or `apt-get install capnproto libcapnp-dev`)"
        );
    }
}
