//! Compiles the schemas and fingerprints them, so a provider built against
//! different schemas can be refused before any call crosses the boundary.

use std::hash::Hasher;

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
    // FNV-1a over the schema sources: stable across toolchains and hosts.
    let mut hash = Fnv1a::default();
    for name in SCHEMAS {
        let path = format!("schema/{name}");
        println!("cargo:rerun-if-changed={path}");
        let text = std::fs::read(&path).expect("schema file is readable");
        hash.write(name.as_bytes());
        hash.write(&text);
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
    let fingerprint = format!(
        "/// FNV-1a of the schema sources (see build.rs).\n\
         pub const SCHEMA_FINGERPRINT: &str = \"{:016x}\";\n",
        hash.finish()
    );
    std::fs::write(format!("{out}/schema_fingerprint.rs"), fingerprint)
        .expect("OUT_DIR is writable");
}

struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
