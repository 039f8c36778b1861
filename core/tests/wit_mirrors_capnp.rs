//! The WIT packages in `wit/` mirror the guest-facing Cap'n Proto schemas:
//! every method of a mirrored interface exists in its WIT resource and
//! every WIT method in the interface, under the kebab-case name. What is
//! deliberately not mirrored is listed below with the reason, so adding a
//! method or an interface on either side fails here until the other side
//! (or this list) follows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use capnp::schema_capnp::{code_generator_request, node};
use wit_parser::{FunctionKind, Resolve, TypeDefKind, TypeOwner};

/// The schema files whose interfaces cells can be granted.
const GUEST_FILES: &[&str] = &[
    "membrane.capnp",
    "identity.capnp",
    "system.capnp",
    "routing.capnp",
    "ipfs.capnp",
];

/// Cap'n Proto interface → WIT interface and resource (`None`: the
/// interface's free functions).
const MIRRORS: &[(&str, &str, Option<&str>)] = &[
    ("Membrane", "wetware:membrane/membrane@0.1.0", None),
    (
        "Identity",
        "wetware:identity/identity@0.1.0",
        Some("identity"),
    ),
    ("Signer", "wetware:identity/identity@0.1.0", Some("signer")),
    (
        "ByteStream",
        "wetware:types/streams@0.1.0",
        Some("byte-stream"),
    ),
    (
        "Executor",
        "wetware:executor/executor@0.1.0",
        Some("executor"),
    ),
    (
        "Runtime",
        "wetware:executor/executor@0.1.0",
        Some("runtime"),
    ),
    (
        "Process",
        "wetware:executor/executor@0.1.0",
        Some("process"),
    ),
    ("Host", "wetware:host/host@0.1.0", Some("node")),
    (
        "StreamListener",
        "wetware:host/host@0.1.0",
        Some("stream-listener"),
    ),
    (
        "StreamDialer",
        "wetware:host/host@0.1.0",
        Some("stream-dialer"),
    ),
    ("Routing", "wetware:routing/routing@0.1.0", Some("routing")),
    ("Ipfs", "wetware:ipfs/ipfs@0.1.0", Some("ipfs")),
    ("UnixFs", "wetware:ipfs/ipfs@0.1.0", Some("unixfs")),
    ("AddWriter", "wetware:ipfs/ipfs@0.1.0", Some("add-writer")),
];

/// Cap'n Proto interfaces with no WIT resource, and why.
const NOT_MIRRORED: &[(&str, &str)] = &[
    (
        "Terminal",
        "logs in to a membrane across the network; a cell's WIT membrane is already its own",
    ),
    ("Cells", "granted to providers only, never to cells"),
    ("Code", "granted to providers only, never to cells"),
    (
        "VatListener",
        "serves a capability of any type: RPC vat only",
    ),
    (
        "VatClient",
        "returns a capability of any type: RPC vat only",
    ),
    (
        "StreamHandler",
        "a callback the cell implements; in WIT its calls are `incoming.accept` results",
    ),
    (
        "ProviderSink",
        "a callback the cell implements; in WIT `find-providers` returns the list",
    ),
];

/// Methods of mirrored interfaces that stay on the RPC vat, and why.
const VAT_ONLY_METHODS: &[(&str, &str, &str)] =
    &[("Process", "bootstrap", "returns a capability of any type")];

/// WIT resources with no Cap'n Proto interface of their own, and why.
const WIT_ONLY: &[(&str, &str)] = &[(
    "incoming",
    "the calls a `StreamHandler` would receive, as results",
)];

/// `publicKey` → `public-key`.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Guest-facing Cap'n Proto interfaces: short name → method names (kebab).
fn capnp_interfaces() -> BTreeMap<String, BTreeSet<String>> {
    let mut bytes = ww_capnp::schema::BUILTIN_SCHEMAS;
    let mut options = capnp::message::ReaderOptions::new();
    options.traversal_limit_in_words(None);
    let message = capnp::serialize::read_message(&mut bytes, options).unwrap();
    let request = message
        .get_root::<code_generator_request::Reader<'_>>()
        .unwrap();
    let mut out = BTreeMap::new();
    for n in request.get_nodes().unwrap() {
        let display = n.get_display_name().unwrap().to_str().unwrap();
        let file = display.split(':').next().unwrap_or("");
        if !GUEST_FILES.iter().any(|f| file.ends_with(f)) {
            continue;
        }
        if let Ok(node::Interface(_)) = n.which() {
            let methods = ww_capnp::schema::method_names(n)
                .iter()
                .map(|m| kebab(m))
                .collect();
            out.insert(ww_capnp::schema::short_name(n), methods);
        }
    }
    out
}

/// Every WIT resource (by interface) and free-function set: (interface,
/// resource or None) → method names.
fn wit_methods() -> BTreeMap<(String, Option<String>), BTreeSet<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/membrane");
    let mut resolve = Resolve::default();
    resolve.push_dir(&dir).unwrap();
    let mut out: BTreeMap<(String, Option<String>), BTreeSet<String>> = BTreeMap::new();
    for (id, iface) in resolve.interfaces.iter() {
        let Some(package) = iface.package else {
            continue;
        };
        if resolve.packages[package].name.namespace != "wetware"
            || resolve.packages[package].name.name == "rpc"
        {
            continue;
        }
        let path = resolve.id_of(id).unwrap();
        for (_, &ty) in &iface.types {
            let def = &resolve.types[ty];
            if matches!(def.kind, TypeDefKind::Resource) && def.owner == TypeOwner::Interface(id) {
                out.entry((path.clone(), def.name.clone())).or_default();
            }
        }
        for func in iface.functions.values() {
            let (resource, method) = match func.kind {
                FunctionKind::Freestanding => (None, func.name.clone()),
                FunctionKind::Method(ty) | FunctionKind::Static(ty) => {
                    (resolve.types[ty].name.clone(), func.item_name().to_string())
                }
                FunctionKind::Constructor(ty) => {
                    (resolve.types[ty].name.clone(), "constructor".to_string())
                }
                _ => continue,
            };
            out.entry((path.clone(), resource))
                .or_default()
                .insert(method);
        }
    }
    out
}

#[test]
fn every_guest_facing_interface_is_mirrored_or_listed() {
    let capnp = capnp_interfaces();
    let mut unaccounted = Vec::new();
    for name in capnp.keys() {
        let mirrored = MIRRORS.iter().any(|(c, ..)| c == name);
        let listed = NOT_MIRRORED.iter().any(|(c, _)| c == name);
        if mirrored == listed {
            unaccounted.push(name.clone());
        }
    }
    assert!(
        unaccounted.is_empty(),
        "Cap'n Proto interfaces {unaccounted:?} must be in exactly one of MIRRORS (with a WIT resource) or NOT_MIRRORED (with a reason)"
    );
    for (c, ..) in MIRRORS {
        assert!(
            capnp.contains_key(*c),
            "MIRRORS names {c}, which the schemas no longer have"
        );
    }
}

#[test]
fn every_wit_resource_mirrors_an_interface_or_is_listed() {
    for ((iface, resource), _) in wit_methods() {
        let mirrored = MIRRORS
            .iter()
            .any(|(_, i, r)| *i == iface && r.map(str::to_string) == resource);
        let wit_only = resource
            .as_deref()
            .is_some_and(|r| WIT_ONLY.iter().any(|(w, _)| *w == r));
        // Interfaces of records and resources only have no free functions.
        if resource.is_none() && !mirrored {
            continue;
        }
        assert!(
            mirrored || wit_only,
            "WIT resource {resource:?} in {iface} mirrors no Cap'n Proto interface: add it to MIRRORS or WIT_ONLY"
        );
    }
}

#[test]
fn methods_match_in_both_directions() {
    let capnp = capnp_interfaces();
    let wit = wit_methods();
    let mut mismatches = Vec::new();
    for (name, iface, resource) in MIRRORS {
        let key = (iface.to_string(), resource.map(str::to_string));
        let Some(wit_set) = wit.get(&key) else {
            mismatches.push(format!("{name}: no WIT {resource:?} in {iface}"));
            continue;
        };
        let capnp_set: BTreeSet<String> = capnp[*name]
            .iter()
            .filter(|m| {
                !VAT_ONLY_METHODS
                    .iter()
                    .any(|(c, v, _)| c == name && kebab(v) == **m)
            })
            .cloned()
            .collect();
        for m in capnp_set.difference(wit_set) {
            mismatches.push(format!(
                "{name}.{m} is in the .capnp but not in WIT {iface} {resource:?}"
            ));
        }
        for m in wit_set.difference(&capnp_set) {
            mismatches.push(format!(
                "WIT {iface} {resource:?} `{m}` is not a method of {name} in the .capnp"
            ));
        }
    }
    for (c, m, _) in VAT_ONLY_METHODS {
        assert!(
            capnp.get(*c).is_some_and(|ms| ms.contains(&kebab(m))),
            "VAT_ONLY_METHODS names {c}.{m}, which the schemas no longer have"
        );
    }
    assert!(
        mismatches.is_empty(),
        "WIT and Cap'n Proto disagree:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn kebab_case_follows_wit() {
    assert_eq!(kebab("publicKey"), "public-key");
    assert_eq!(kebab("findProviders"), "find-providers");
    assert_eq!(kebab("id"), "id");
}
