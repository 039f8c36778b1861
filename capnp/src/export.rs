//! `membrane.capnp:Export`, written and read in one place: the membrane's
//! graft, a provider's exports over its vat, a guest's graft and the caps
//! it hands a child all carry the same three things (a name, the
//! capability, its interface's schema node with the nodes its methods use),
//! and a receiver that finds one of them missing or laid out otherwise
//! cannot call what it was given.

use capnp::capability::Client;

use crate::membrane_capnp::export;
use crate::schema::{method_names, short_name, SchemaNode};

/// One named capability with its interface's schema node, as an `Export`
/// carries it.
#[derive(Clone)]
pub struct Export {
    /// Unique within one graft (e.g. "identity").
    pub name: String,
    /// The capability itself.
    pub cap: Client,
    /// The interface's schema node, with the nodes its methods use.
    pub schema: SchemaNode,
}

/// What can be written as an `Export`: this crate's [`Export`], and types
/// that carry more beside it (the provider SDK's).
pub trait Exportable {
    /// The name, the capability and the schema node, borrowed.
    fn parts(&self) -> (&str, &Client, &SchemaNode);
}

impl Exportable for Export {
    fn parts(&self) -> (&str, &Client, &SchemaNode) {
        (&self.name, &self.cap, &self.schema)
    }
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        debug(self, f)
    }
}

/// `Export { name: "identity", schema: 0x…, .. }`: what tells exports
/// apart in a log or a failed assertion (a capability prints nothing
/// useful).
///
/// # Errors
///
/// As the formatter's.
pub fn debug<E: Exportable + ?Sized>(
    export: &E,
    f: &mut std::fmt::Formatter<'_>,
) -> std::fmt::Result {
    let (name, _, schema) = export.parts();
    f.debug_struct("Export")
        .field("name", &name)
        .field("schema", &format_args!("{:#018x}", schema.id()))
        .finish_non_exhaustive()
}

impl Export {
    /// The capability's name, unique within its graft (e.g. `identity`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The capability, untyped; cast with `client.cast_to::<C>()`.
    pub fn client(&self) -> &Client {
        &self.cap
    }

    /// The interface's schema node, as the sender wrote it.
    pub fn schema(&self) -> &SchemaNode {
        &self.schema
    }

    /// The interface's short name (`Identity`), or `?` when the schema node
    /// cannot be read.
    pub fn interface_name(&self) -> String {
        self.schema
            .read()
            .and_then(|n| Ok(short_name(n.get()?)))
            .unwrap_or_else(|_| "?".to_string())
    }

    /// The interface's method names in ordinal order (empty when the schema
    /// node is not an interface or cannot be read).
    pub fn method_names(&self) -> Vec<String> {
        self.schema
            .read()
            .and_then(|n| Ok(method_names(n.get()?)))
            .unwrap_or_default()
    }

    /// Writes this export into an `Export` being built, e.g. one of the
    /// `caps` handed to a child by `Executor.spawn` (attenuation: pass only
    /// what the child needs).
    ///
    /// # Errors
    ///
    /// When the schema node cannot be copied (never for a node read from a
    /// message).
    pub fn write(&self, builder: export::Builder<'_>) -> capnp::Result<()> {
        write(self, builder)
    }

    /// Reads an `Export`.
    ///
    /// # Errors
    ///
    /// When the name is not UTF-8, or the capability or schema is missing or
    /// malformed.
    pub fn read(reader: export::Reader<'_>) -> capnp::Result<Export> {
        let name = reader
            .get_name()?
            .to_string()
            .map_err(|e| capnp::Error::failed(format!("export name is not UTF-8: {e}")))?;
        let cap = reader.get_cap().get_as_capability()?;
        let schema = SchemaNode::copy_of(reader.get_schema()?)?
            .with_types(SchemaNode::read_list(reader.get_types()?)?);
        Ok(Export { name, cap, schema })
    }
}

/// Writes `export` into `builder`.
///
/// # Errors
///
/// When the schema node cannot be copied into the message.
pub fn write<E: Exportable + ?Sized>(
    export: &E,
    mut builder: export::Builder<'_>,
) -> capnp::Result<()> {
    let (name, cap, schema) = export.parts();
    builder.set_name(name);
    builder
        .reborrow()
        .init_cap()
        .set_as_capability(cap.hook.add_ref());
    write_schema(builder, schema)
}

/// Writes `schema` and the nodes its methods use into `builder`, the part
/// of an `Export` that lets a receiver call the capability without having
/// been compiled against its interface (the shell fills it in for an
/// export given by name and capability alone).
///
/// # Errors
///
/// When a node cannot be copied into the message.
pub fn write_schema(mut builder: export::Builder<'_>, schema: &SchemaNode) -> capnp::Result<()> {
    builder.set_schema(schema.read()?.get()?)?;
    let types = u32::try_from(schema.types().len())
        .map_err(|_| capnp::Error::failed("an interface that uses too many types".into()))?;
    schema.write_types(builder.init_types(types))
}

/// Writes `exports` into a list of their length (`Membrane.graft`'s caps,
/// `Plugin.start`'s exports and requires).
///
/// # Errors
///
/// When the list is shorter than `exports`, or a schema node cannot be
/// copied.
pub fn write_list<E: Exportable>(
    exports: &[E],
    mut list: capnp::struct_list::Builder<'_, export::Owned>,
) -> capnp::Result<()> {
    for (i, e) in exports.iter().enumerate() {
        let i = u32::try_from(i).map_err(|_| capnp::Error::failed("too many exports".into()))?;
        let Some(builder) = list.reborrow().try_get(i) else {
            return Err(capnp::Error::failed(format!(
                "{} exports do not fit a list of {}",
                exports.len(),
                list.len()
            )));
        };
        write(e, builder)?;
    }
    Ok(())
}

/// Reads a `List(Export)`.
///
/// # Errors
///
/// As [`Export::read`], for the first export that fails.
pub fn read_list(
    list: capnp::struct_list::Reader<'_, export::Owned>,
) -> capnp::Result<Vec<Export>> {
    list.iter().map(Export::read).collect()
}

/// The length of a list of `n` exports, or an error when a message cannot
/// hold that many.
///
/// # Errors
///
/// When `n` does not fit a `u32`.
pub fn list_len(n: usize) -> capnp::Result<u32> {
    u32::try_from(n)
        .map_err(|_| capnp::Error::failed(format!("{n} exports are too many for one list")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity_capnp::signer;
    use crate::schema::builtin;
    use capnp::traits::HasTypeId;

    #[test]
    fn the_schema_and_its_types_read_back_as_written() {
        let schema = SchemaNode::from_set(&builtin(), signer::Client::TYPE_ID).unwrap();
        let mut message = capnp::message::Builder::new_default();
        write_schema(message.init_root::<export::Builder<'_>>(), &schema).unwrap();
        let reader = message.get_root_as_reader::<export::Reader<'_>>().unwrap();
        let back = SchemaNode::copy_of(reader.get_schema().unwrap())
            .unwrap()
            .with_types(SchemaNode::read_list(reader.get_types().unwrap()).unwrap());
        assert_eq!(back, schema);
        assert!(!back.types().is_empty());
    }
}
