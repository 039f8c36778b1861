//! Facets: a method a capability reaches through one of its own.
//!
//! Some interfaces hand out their operations through a sub-capability:
//! `Ipfs.unixfs() -> (api :UnixFs)` holds `cat`, `ls` and `add`. A person
//! at the shell writes `(ipfs cat "/ipfs/…")`, not
//! `((ipfs unixfs) cat "/ipfs/…")`, so a method the interface lacks is
//! looked up on its facets — methods that take no parameters and return
//! exactly one capability of a known interface — and called through the
//! facet. Only a name that exactly one facet has is reachable this way;
//! the interface's own methods always come first. This follows the schema
//! alone, so a third party's provider gets the same shorthand.

use capnp::schema_capnp::{node, type_};

use crate::schemas::{Node, Schemas};

/// A method the interface lacks, reached through a facet.
pub struct Route {
    /// The method (`cat`).
    pub method: String,
    /// The facet method on the capability itself (`unixfs`).
    pub facet: String,
    /// The facet's interface node.
    pub interface: Node,
}

/// Every method reachable through a facet of `interface` and not on the
/// interface itself, in the facets' order; a name two facets share is
/// left out (it would be ambiguous).
pub fn routes(schemas: &Schemas, interface: node::Reader<'_>) -> Vec<Route> {
    let own = ww_capnp::schema::method_names(interface);
    let mut routes: Vec<Route> = Vec::new();
    let mut ambiguous: Vec<String> = Vec::new();
    for (facet, iface) in facets(schemas, interface) {
        let Ok(reader) = iface.get() else { continue };
        for method in ww_capnp::schema::method_names(reader) {
            if own.contains(&method) || ambiguous.contains(&method) {
                continue;
            }
            if let Some(at) = routes.iter().position(|r| r.method == method) {
                routes.remove(at);
                ambiguous.push(method);
            } else {
                routes.push(Route {
                    method,
                    facet: facet.clone(),
                    interface: iface.clone(),
                });
            }
        }
    }
    routes
}

/// Each facet of `interface`: its method name and interface node.
fn facets(schemas: &Schemas, interface: node::Reader<'_>) -> Vec<(String, Node)> {
    let Ok(node::Interface(i)) = interface.which() else {
        return Vec::new();
    };
    let Ok(methods) = i.get_methods() else {
        return Vec::new();
    };
    methods
        .iter()
        .filter_map(|m| {
            if struct_fields(schemas, m.get_param_struct_type())? != 0 {
                return None;
            }
            let results = schemas.node(m.get_result_struct_type()).ok()?;
            let iface = single_capability_field(schemas, results.get().ok()?)?;
            Some((m.get_name().ok()?.to_str().ok()?.to_string(), iface))
        })
        .collect()
}

fn struct_fields(schemas: &Schemas, id: u64) -> Option<u32> {
    let node = schemas.node(id).ok()?;
    let reader = node.get().ok()?;
    match reader.which().ok()? {
        node::Struct(st) => Some(st.get_fields().ok()?.len()),
        _ => None,
    }
}

/// The interface node of a struct's only field, when that field is a
/// capability whose interface the schemas hold.
fn single_capability_field(schemas: &Schemas, results: node::Reader<'_>) -> Option<Node> {
    let node::Struct(st) = results.which().ok()? else {
        return None;
    };
    let fields = st.get_fields().ok()?;
    if fields.len() != 1 {
        return None;
    }
    let capnp::schema_capnp::field::Slot(slot) = fields.get(0).which().ok()? else {
        return None;
    };
    match slot.get_type().ok()?.which().ok()? {
        type_::Interface(i) => schemas.node(i.get_type_id()).ok(),
        _ => None,
    }
}
