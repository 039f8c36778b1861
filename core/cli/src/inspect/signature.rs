//! An export's methods as a person reads them, `ping(n :UInt32) -> (n
//! :UInt32)`, from the schema node its provider handed over with it and
//! the nodes its methods use (`SchemaNode::types`); types are spelled by
//! [`ww_capnp::type_name`], as the shell spells them, and a node the
//! provider did not send by its id.

use std::collections::BTreeMap;

use capnp::message::TypedReader;
use capnp::schema_capnp::node;
use capnp::serialize::OwnedSegments;
use ww_capnp::schema::{short_name, SchemaNode};
use ww_capnp::type_name::{self, Kind};

/// Each method of the interface `schema`, in ordinal order, with its
/// parameters and results; empty when `schema` is not an interface.
///
/// # Errors
///
/// When a node cannot be read (a malformed node from a provider).
pub fn methods(schema: &SchemaNode) -> capnp::Result<Vec<String>> {
    let root = schema.read()?;
    let types: Vec<TypedReader<OwnedSegments, node::Owned>> = schema
        .types()
        .iter()
        .map(SchemaNode::read)
        .collect::<capnp::Result<_>>()?;
    let mut nodes = BTreeMap::new();
    for t in &types {
        let n = t.get()?;
        nodes.insert(n.get_id(), n);
    }
    let names = Names(&nodes);
    let node::Interface(iface) = root.get()?.which()? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for m in iface.get_methods()? {
        let name = m.get_name()?.to_str()?;
        let params = names.fields(m.get_param_struct_type());
        let results = names.fields(m.get_result_struct_type());
        out.push(format!("{name}{params} -> {results}"));
    }
    Ok(out)
}

/// The nodes a method's types are looked up in.
struct Names<'a>(&'a BTreeMap<u64, node::Reader<'a>>);

impl Names<'_> {
    /// "(a :Text, b :UInt32)" for a method's own `$Params`/`$Results`
    /// struct, or the struct's name when the method takes a named one.
    fn fields(&self, id: u64) -> String {
        let Some(n) = self.0.get(&id) else {
            return "(?)".to_string();
        };
        let name = short_name(*n);
        let Ok(node::Struct(st)) = n.which() else {
            return format!("({name})");
        };
        if !(name.ends_with("$Params") || name.ends_with("$Results")) {
            // A method that takes or returns a named struct.
            return format!("({name})");
        }
        let named = |id: u64, _: Kind| self.name(id);
        let fields: Vec<String> = st
            .get_fields()
            .into_iter()
            .flatten()
            .map(|f| {
                let fname = f
                    .get_name()
                    .ok()
                    .and_then(|t| t.to_str().ok())
                    .unwrap_or("?");
                format!("{fname} :{}", type_name::of_field(f, &named))
            })
            .collect();
        format!("({})", fields.join(", "))
    }

    /// A node's short name, or its id when the provider did not send it.
    fn name(&self, id: u64) -> String {
        self.0
            .get(&id)
            .map_or_else(|| format!("{id:#018x}"), |n| short_name(*n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capnp::traits::HasTypeId;
    use ww_capnp::identity_capnp::signer;
    use ww_capnp::schema::builtin;

    #[test]
    fn a_builtin_interface_reads_as_its_schema_says() {
        let schema = SchemaNode::from_set(&builtin(), signer::Client::TYPE_ID).unwrap();
        let methods = methods(&schema).unwrap();
        assert_eq!(methods.len(), 3, "{methods:?}");
        assert_eq!(methods[2], "domain() -> (domain :Text)");
        assert_eq!(
            methods[0],
            "sign(nonce :Data, epochSeq :UInt64) -> (signature :Data)"
        );
    }
}
