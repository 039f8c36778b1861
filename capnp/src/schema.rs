//! Schema nodes at run time.
//!
//! `Export.schema` carries an interface's `Schema.Node` so that a guest or the
//! shell can call a capability it was never compiled against. capnpc-rust does
//! not embed interface nodes in generated code, so each schema crate saves the
//! compiler's `CodeGeneratorRequest` from its `build.rs`
//! (`capnpc::CompilerCommand::raw_code_generator_request_path`) and reads it
//! back with [`SchemaSet`]. Third-party providers do the same for their own
//! schemas.

use capnp::message::{ReaderOptions, TypedReader};
use capnp::schema_capnp::{code_generator_request, node};
use capnp::serialize::OwnedSegments;

/// Every node of one compiled set of schema files.
pub struct SchemaSet {
    request: TypedReader<OwnedSegments, code_generator_request::Owned>,
}

impl SchemaSet {
    /// Reads a serialized `CodeGeneratorRequest`.
    ///
    /// # Errors
    ///
    /// When `bytes` is not a well-formed Cap'n Proto message of that type.
    pub fn from_bytes(mut bytes: &[u8]) -> capnp::Result<Self> {
        // Trusted, and read many times over: no traversal limit.
        let mut options = ReaderOptions::new();
        options.traversal_limit_in_words(None);
        let message = capnp::serialize::read_message(&mut bytes, options)?;
        let request: TypedReader<_, code_generator_request::Owned> = TypedReader::new(message);
        // Fail here, not on first lookup, when the root is not a request.
        request.get()?.get_nodes()?;
        Ok(SchemaSet { request })
    }

    /// The node with this id (an interface's `TYPE_ID`, a struct's, ...).
    pub fn node(&self, id: u64) -> Option<node::Reader<'_>> {
        let nodes = self.request.get().ok()?.get_nodes().ok()?;
        nodes.iter().find(|n| n.get_id() == id)
    }

    /// The node with this id, or an error naming the id.
    ///
    /// # Errors
    ///
    /// When no node of this set has `id`.
    pub fn require(&self, id: u64) -> capnp::Result<node::Reader<'_>> {
        self.node(id)
            .ok_or_else(|| capnp::Error::failed(format!("no schema node with id {id:#018x}")))
    }
}

/// An owned copy of one schema node, as carried by `Export.schema`.
///
/// Stored serialized (a message whose root is the node) so it is `Send` and
/// cheap to clone; [`SchemaNode::read`] parses it back.
///
/// A node taken [`from_set`](SchemaNode::from_set) also carries its
/// [`types`](SchemaNode::types): the struct, enum and interface nodes its
/// methods' parameters and results use, transitively, so that a caller
/// compiled without the schema (the shell's `call`) can build requests and
/// read results. They travel in `Export.types`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaNode {
    id: u64,
    bytes: Vec<u8>,
    types: Vec<SchemaNode>,
}

impl SchemaNode {
    /// Copies `node` out of whatever message holds it.
    ///
    /// # Errors
    ///
    /// When `node` cannot be read (a malformed message).
    pub fn copy_of(node: node::Reader<'_>) -> capnp::Result<Self> {
        let mut message = capnp::message::Builder::new_default();
        message.set_root(node)?;
        Ok(SchemaNode {
            id: node.get_id(),
            bytes: capnp::serialize::write_message_to_words(&message),
            types: Vec::new(),
        })
    }

    /// The node `id` of `set`, copied, with the nodes its methods use
    /// (see [`SchemaNode::types`]).
    ///
    /// # Errors
    ///
    /// When `set` has no node `id`, or a node cannot be copied.
    pub fn from_set(set: &SchemaSet, id: u64) -> capnp::Result<Self> {
        let node = set.require(id)?;
        let types = closure(set, node)
            .into_iter()
            .map(Self::copy_of)
            .collect::<capnp::Result<_>>()?;
        Ok(Self::copy_of(node)?.with_types(types))
    }

    /// This node with `types` as the nodes it uses.
    pub fn with_types(mut self, types: Vec<SchemaNode>) -> Self {
        self.types = types;
        self
    }

    /// The struct, enum and interface nodes this interface's methods use,
    /// transitively (not the node itself, nor `schema.capnp`'s own nodes);
    /// empty for a node made by [`SchemaNode::copy_of`].
    pub fn types(&self) -> &[SchemaNode] {
        &self.types
    }

    /// Reads nodes carried in a list (`Export.types`).
    ///
    /// # Errors
    ///
    /// When a node cannot be read (a malformed message).
    pub fn read_list(
        list: capnp::struct_list::Reader<'_, node::Owned>,
    ) -> capnp::Result<Vec<SchemaNode>> {
        list.iter().map(Self::copy_of).collect()
    }

    /// Writes [`SchemaNode::types`] into a list (`Export.types`) of their
    /// length.
    ///
    /// # Errors
    ///
    /// When a node cannot be copied into the message.
    pub fn write_types(
        &self,
        mut list: capnp::struct_list::Builder<'_, node::Owned>,
    ) -> capnp::Result<()> {
        for (i, t) in self.types.iter().enumerate() {
            list.set_with_caveats(i as u32, t.read()?.get()?)?;
        }
        Ok(())
    }

    /// The node's id (an interface's `TYPE_ID`).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The node, parsed back.
    ///
    /// # Errors
    ///
    /// Never for a node made by this type; the `Result` is the parser's.
    pub fn read(&self) -> capnp::Result<TypedReader<OwnedSegments, node::Owned>> {
        let mut options = ReaderOptions::new();
        options.traversal_limit_in_words(None);
        let message = capnp::serialize::read_message(&mut self.bytes.as_slice(), options)?;
        Ok(TypedReader::new(message))
    }
}

/// The nodes that `root`'s methods use, transitively: parameter and result
/// structs, the structs, groups and enums their fields hold, and the
/// interfaces they pass (with what those use). Nodes of `schema.capnp`
/// itself (`Export.schema`'s type) are left out: they are metadata, large,
/// and every reader has them compiled in.
fn closure<'a>(set: &'a SchemaSet, root: node::Reader<'a>) -> Vec<node::Reader<'a>> {
    use capnp::schema_capnp::{field, type_};
    let mut seen = std::collections::BTreeSet::from([root.get_id()]);
    let mut out = Vec::new();
    let mut queue = vec![root];
    let mut push = |id: u64, queue: &mut Vec<node::Reader<'a>>| {
        if seen.insert(id) {
            if let Some(n) = set.node(id) {
                let name = n.get_display_name().ok().and_then(|t| t.to_str().ok());
                if !name.is_some_and(|n| n.starts_with("capnp/schema.capnp")) {
                    queue.push(n);
                }
            }
        }
    };
    fn type_ids(t: type_::Reader<'_>, ids: &mut Vec<u64>) {
        match t.which() {
            Ok(type_::Struct(s)) => ids.push(s.get_type_id()),
            Ok(type_::Enum(e)) => ids.push(e.get_type_id()),
            Ok(type_::Interface(i)) => ids.push(i.get_type_id()),
            Ok(type_::List(l)) => {
                if let Ok(element) = l.get_element_type() {
                    type_ids(element, ids);
                }
            }
            _ => {}
        }
    }
    while let Some(n) = queue.pop() {
        if n.get_id() != root.get_id() {
            out.push(n);
        }
        let mut ids = Vec::new();
        match n.which() {
            Ok(node::Interface(iface)) => {
                for m in iface.get_methods().into_iter().flatten() {
                    ids.push(m.get_param_struct_type());
                    ids.push(m.get_result_struct_type());
                }
            }
            Ok(node::Struct(st)) => {
                for f in st.get_fields().into_iter().flatten() {
                    match f.which() {
                        Ok(field::Slot(slot)) => {
                            if let Ok(t) = slot.get_type() {
                                type_ids(t, &mut ids);
                            }
                        }
                        Ok(field::Group(g)) => ids.push(g.get_type_id()),
                        Err(_) => {}
                    }
                }
            }
            _ => {}
        }
        for id in ids {
            push(id, &mut queue);
        }
    }
    out.sort_by_key(|n| n.get_id());
    out
}

/// The serialized `CodeGeneratorRequest` of ww's own schemas.
pub const BUILTIN_SCHEMAS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/schemas.bin"));

/// ww's own schemas (membrane, identity, system, ipfs, routing, provider).
///
/// Parsed on each call (a few microseconds): a reader is not `Sync`, and
/// lookups happen only when capabilities are exported or introspected.
pub fn builtin() -> SchemaSet {
    SchemaSet::from_bytes(BUILTIN_SCHEMAS)
        .expect("the schema set compiled by build.rs is well-formed")
}

/// The short name of a node (`Identity` for `identity.capnp:Identity`).
pub fn short_name(node: node::Reader<'_>) -> String {
    let full = node
        .get_display_name()
        .ok()
        .and_then(|n| n.to_str().ok())
        .unwrap_or("");
    let prefix = node.get_display_name_prefix_length() as usize;
    full.get(prefix..).unwrap_or(full).to_string()
}

/// Method names of an interface node, in ordinal order; empty for other nodes.
pub fn method_names(node: node::Reader<'_>) -> Vec<String> {
    match node.which() {
        Ok(node::Interface(iface)) => iface
            .get_methods()
            .map(|ms| {
                ms.iter()
                    .filter_map(|m| m.get_name().ok()?.to_string().ok())
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capnp::traits::HasTypeId;

    #[test]
    fn builtin_set_has_interface_nodes_with_methods() {
        let id = crate::identity_capnp::identity::Client::TYPE_ID;
        let set = builtin();
        let node = set.require(id).unwrap();
        assert_eq!(short_name(node), "Identity");
        assert_eq!(method_names(node), ["publicKey", "signer", "verify"]);
    }

    #[test]
    fn schema_node_round_trips() {
        let id = crate::identity_capnp::signer::Client::TYPE_ID;
        let node = SchemaNode::from_set(&builtin(), id).unwrap();
        assert_eq!(node.id(), id);
        let back = node.read().unwrap();
        assert_eq!(short_name(back.get().unwrap()), "Signer");
        assert_eq!(
            method_names(back.get().unwrap()),
            ["sign", "publicKey", "domain"]
        );
    }

    #[test]
    fn from_set_carries_the_nodes_methods_use() {
        let id = crate::system_capnp::executor::Client::TYPE_ID;
        let node = SchemaNode::from_set(&builtin(), id).unwrap();
        let names: Vec<String> = node
            .types()
            .iter()
            .map(|t| short_name(t.read().unwrap().get().unwrap()))
            .collect();
        // spawn's params, Limits, the Export struct and the Process it returns.
        for want in ["spawn$Params", "Limits", "Export", "Process", "ByteStream"] {
            assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
        }
        // Schema.Node itself stays out.
        assert!(!names.iter().any(|n| n == "Node"), "{names:?}");
        assert!(node.types().iter().all(|t| t.id() != id));
    }

    #[test]
    fn garbage_is_not_a_schema_set() {
        assert!(SchemaSet::from_bytes(&[1, 2, 3]).is_err());
    }

    #[test]
    fn unknown_id_is_an_error() {
        assert!(builtin().require(0x1234).is_err());
    }
}
