//! The WIT worlds describe what guests really import: a guest that uses both
//! doors imports (a subset of) `wetware:membrane/full`, a WIT-only guest
//! `wetware:membrane/minimal`, and `full` is `minimal` plus the RPC
//! transport. Read from the built components and from `wit/` with
//! wit-parser, so a world that drifts from the SDK fails here.

use std::collections::BTreeSet;
use std::path::Path;

use wit_parser::decoding::{decode, DecodedWasm};
use wit_parser::{Resolve, WorldId, WorldItem};
use ww_tests::guest;

/// The interfaces a world imports, as `ns:pkg/iface@version` (functions and
/// types imported directly by the world would be listed by name).
fn imports(resolve: &Resolve, world: WorldId) -> BTreeSet<String> {
    resolve.worlds[world]
        .imports
        .iter()
        .map(|(key, item)| match item {
            WorldItem::Interface { id, .. } => resolve
                .id_of(*id)
                .unwrap_or_else(|| resolve.name_world_key(key)),
            _ => resolve.name_world_key(key),
        })
        .collect()
}

/// The imports of world `name` in `wit/membrane`.
fn declared(name: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/membrane");
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e:#}", dir.display()));
    let world = resolve
        .select_world(&[package], Some(name))
        .unwrap_or_else(|e| panic!("world {name}: {e:#}"));
    imports(&resolve, world)
}

/// The `wetware:` interfaces the built guest `name` imports.
fn imported_by(name: &str) -> BTreeSet<String> {
    let path = guest(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let DecodedWasm::Component(resolve, world) =
        decode(&bytes).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()))
    else {
        panic!("{} is not a component", path.display());
    };
    imports(&resolve, world)
        .into_iter()
        .filter(|i| i.starts_with("wetware:"))
        .collect()
}

const TRANSPORT: &str = "wetware:rpc/transport@0.1.0";
const MEMBRANE: &str = "wetware:membrane/membrane@0.1.0";

#[test]
fn the_full_world_is_the_minimal_one_plus_the_rpc_transport() {
    let minimal = declared("minimal");
    let full = declared("full");
    assert!(minimal.contains(MEMBRANE), "{minimal:?}");
    assert!(!minimal.contains(TRANSPORT), "{minimal:?}");
    assert!(full.contains(TRANSPORT), "{full:?}");
    let extra: Vec<_> = full.difference(&minimal).collect();
    assert!(
        extra
            .iter()
            .all(|i| *i == TRANSPORT || i.starts_with("wasi:io/")),
        "full adds more than the transport and its wasi:io types: {extra:?}"
    );
    assert!(minimal.is_subset(&full), "{minimal:?} vs {full:?}");
}

#[test]
fn a_guest_using_both_doors_imports_the_full_world() {
    let full = declared("full");
    let used = imported_by("wit-doors");
    assert!(
        used.contains(MEMBRANE) && used.contains(TRANSPORT),
        "{used:?}"
    );
    assert!(
        used.is_subset(&full),
        "wit-doors imports what `full` does not declare: {:?}",
        used.difference(&full).collect::<Vec<_>>()
    );
}

#[test]
fn a_wit_only_guest_imports_the_minimal_world_and_no_rpc_transport() {
    let minimal = declared("minimal");
    let used = imported_by("example-identity");
    assert!(used.contains(MEMBRANE), "{used:?}");
    assert!(!used.contains(TRANSPORT), "{used:?}");
    assert!(
        used.is_subset(&minimal),
        "example-identity imports what `minimal` does not declare: {:?}",
        used.difference(&minimal).collect::<Vec<_>>()
    );
}
