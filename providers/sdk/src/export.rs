//! A named capability with its schema: what providers return from `start`
//! and what the membrane hands to guests.

use std::any::Any;
use std::rc::Rc;

use ww_capnp::membrane_capnp::export;
use ww_capnp::schema::SchemaNode;

/// One named capability, with the schema node of its interface so that a
/// guest or the shell can call it without having been compiled against it.
#[derive(Clone)]
pub struct Export {
    /// Unique name within one node (e.g. "identity").
    pub name: String,
    /// The capability itself.
    pub cap: capnp::capability::Client,
    /// The interface's schema node.
    pub schema: SchemaNode,
    /// The object serving `cap`, for an in-process caller that knows its
    /// type and may skip Cap'n Proto (the core's typed WIT door calls a
    /// built-in provider's own methods this way, the same ones its
    /// capability serves). `None` when the capability came through a
    /// message (a provider library, a child's grant): there is only `cap`.
    pub local: Option<Rc<dyn Any>>,
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Export")
            .field("name", &self.name)
            .field("schema", &format_args!("{:#018x}", self.schema.id()))
            .finish_non_exhaustive()
    }
}

impl Export {
    /// Names `cap`, typed by `schema`.
    pub fn new(
        name: impl Into<String>,
        cap: capnp::capability::Client,
        schema: SchemaNode,
    ) -> Self {
        Export {
            name: name.into(),
            cap,
            schema,
            local: None,
        }
    }

    /// Names `server` as the object serving this export's capability (see
    /// [`Export::local`]).
    #[must_use]
    pub fn with_local<S: Any>(mut self, server: Rc<S>) -> Self {
        self.local = Some(server);
        self
    }

    /// The object serving this export's capability, if it is in this
    /// process and of type `S`.
    pub fn local_as<S: Any>(&self) -> Option<Rc<S>> {
        self.local.clone()?.downcast::<S>().ok()
    }

    /// Writes this export into a `membrane.capnp:Export`.
    ///
    /// # Errors
    ///
    /// When the schema node cannot be copied into the message.
    pub fn write(&self, mut b: export::Builder<'_>) -> capnp::Result<()> {
        b.set_name(self.name.as_str());
        b.reborrow()
            .init_cap()
            .set_as_capability(self.cap.hook.add_ref());
        let node = self.schema.read()?;
        b.set_schema(node.get()?)?;
        let types = self.schema.types().len() as u32;
        self.schema.write_types(b.init_types(types))?;
        Ok(())
    }

    /// Reads a `membrane.capnp:Export`.
    ///
    /// # Errors
    ///
    /// When the name is not UTF-8, or the capability or schema is missing or
    /// malformed.
    pub fn read(r: export::Reader<'_>) -> capnp::Result<Export> {
        let name = r
            .get_name()?
            .to_string()
            .map_err(|e| capnp::Error::failed(format!("export name is not UTF-8: {e}")))?;
        let cap: capnp::capability::Client = r.get_cap().get_as_capability()?;
        let schema = SchemaNode::copy_of(r.get_schema()?)?
            .with_types(SchemaNode::read_list(r.get_types()?)?);
        Ok(Export {
            name,
            cap,
            schema,
            local: None,
        })
    }
}

/// Writes `exports` into a list builder (the core's membrane and the plugin
/// vat both carry `List(Export)`).
pub(crate) fn write_list(
    exports: &[Export],
    mut list: capnp::struct_list::Builder<'_, export::Owned>,
) -> capnp::Result<()> {
    for (i, e) in exports.iter().enumerate() {
        let i = u32::try_from(i).map_err(|_| capnp::Error::failed("too many exports".into()))?;
        e.write(list.reborrow().get(i))?;
    }
    Ok(())
}

/// Reads a `List(Export)`.
pub(crate) fn read_list(
    list: capnp::struct_list::Reader<'_, export::Owned>,
) -> capnp::Result<Vec<Export>> {
    list.iter().map(Export::read).collect()
}
