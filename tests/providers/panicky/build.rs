//! Compiles the fixture's own schema, saving the compiler's request so the
//! provider can export the interface's schema node.

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    capnpc::CompilerCommand::new()
        .src_prefix("schema")
        .file("schema/fixture.capnp")
        .raw_code_generator_request_path(format!("{out}/fixture.bin"))
        .run()
        .expect("compiling schema/fixture.capnp (needs the `capnp` compiler: scripts/setup.sh)");
}
