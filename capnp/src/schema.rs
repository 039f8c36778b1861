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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaNode {
    id: u64,
    bytes: Vec<u8>,
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
        })
    }

    /// The node `id` of `set`, copied.
    ///
    /// # Errors
    ///
    /// When `set` has no node `id`.
    pub fn from_set(set: &SchemaSet, id: u64) -> capnp::Result<Self> {
        Self::copy_of(set.require(id)?)
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
    fn garbage_is_not_a_schema_set() {
        assert!(SchemaSet::from_bytes(&[1, 2, 3]).is_err());
    }

    #[test]
    fn unknown_id_is_an_error() {
        assert!(builtin().require(0x1234).is_err());
    }
}
