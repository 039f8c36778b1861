//! Compiles the `Fixture` schema of the panicky test provider, so the
//! `fixture` guest can call it with typed clients, the Python provider's
//! `Kv` (for the `kv` guest), and the guests' own `Counter` (served across
//! nodes by the `net` guest).

fn main() {
    let dir = "../providers/panicky/schema";
    println!("cargo:rerun-if-changed={dir}/fixture.capnp");
    capnpc::CompilerCommand::new()
        .src_prefix(dir)
        .file(format!("{dir}/fixture.capnp"))
        .run()
        .expect("compiling fixture.capnp (needs the `capnp` compiler: scripts/setup.sh)");
    let dir = "../providers/python";
    println!("cargo:rerun-if-changed={dir}/kv.capnp");
    capnpc::CompilerCommand::new()
        .src_prefix(dir)
        .file(format!("{dir}/kv.capnp"))
        .run()
        .expect("compiling kv.capnp (needs the `capnp` compiler: scripts/setup.sh)");
    println!("cargo:rerun-if-changed=schema/counter.capnp");
    capnpc::CompilerCommand::new()
        .src_prefix("schema")
        .file("schema/counter.capnp")
        .run()
        .expect("compiling counter.capnp (needs the `capnp` compiler: scripts/setup.sh)");
}
