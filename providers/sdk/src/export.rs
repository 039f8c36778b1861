//! A named capability with its schema: what providers return from `start`
//! and what the membrane hands to guests.

use ww_capnp::export as codec;
use ww_capnp::membrane_capnp::export;
use ww_capnp::schema::SchemaNode;

use crate::direct::Direct;

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
    /// The object serving `cap`, for an in-process caller that may skip
    /// Cap'n Proto (see [`direct`](crate::direct)). `None` when the
    /// capability came through a message (a provider library or process,
    /// a child's grant): there is only `cap`.
    direct: Option<Direct>,
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        codec::debug(self, f)
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
            direct: None,
        }
    }

    /// Names `direct` as the object serving this export's capability, so
    /// that an in-process caller may run its methods without a message
    /// (see [`direct`](crate::direct)). The object must serve the very
    /// capability `cap` is: the two doors must answer alike.
    ///
    /// An object of another interface than [`Export::schema`] names is not
    /// kept (the export's callers go through `cap`), and a warning says so.
    #[must_use]
    pub fn with_direct(mut self, direct: Direct) -> Self {
        if direct.interface_id() == self.schema.id() {
            self.direct = Some(direct);
        } else {
            tracing::warn!(
                export = %self.name,
                "the direct object given is for interface {:#018x}, the export's schema is \
                 {:#018x}: calls go through the capability; give the object of the export's \
                 interface",
                direct.interface_id(),
                self.schema.id()
            );
        }
        self
    }

    /// The object serving this export's capability in this process, if its
    /// provider named one (see [`Export::with_direct`]).
    pub fn direct(&self) -> Option<&Direct> {
        self.direct.as_ref()
    }

    /// This export with `cap` in place of its capability (a wrapper of it:
    /// a guard, a panic catcher), keeping its name, schema and direct
    /// object.
    #[must_use]
    pub fn with_cap(self, cap: capnp::capability::Client) -> Self {
        Export { cap, ..self }
    }

    /// Writes this export into a `membrane.capnp:Export` (with
    /// [`ww_capnp::export`], the one codec every side uses).
    ///
    /// # Errors
    ///
    /// When the schema node cannot be copied into the message.
    pub fn write(&self, b: export::Builder<'_>) -> capnp::Result<()> {
        codec::write(self, b)
    }

    /// Reads a `membrane.capnp:Export`: a capability that came through a
    /// message, so with no [`direct`](Export::direct) object.
    ///
    /// # Errors
    ///
    /// When the name is not UTF-8, or the capability or schema is missing or
    /// malformed.
    pub fn read(r: export::Reader<'_>) -> capnp::Result<Export> {
        codec::Export::read(r).map(Export::from)
    }
}

impl From<codec::Export> for Export {
    fn from(e: codec::Export) -> Export {
        Export::new(e.name, e.cap, e.schema)
    }
}

impl codec::Exportable for Export {
    fn parts(&self) -> (&str, &capnp::capability::Client, &SchemaNode) {
        (&self.name, &self.cap, &self.schema)
    }
}

/// Writes `exports` into a list builder of their length (the core's
/// membrane and the plugin vat both carry `List(Export)`).
pub(crate) fn write_list(
    exports: &[Export],
    list: capnp::struct_list::Builder<'_, export::Owned>,
) -> capnp::Result<()> {
    codec::write_list(exports, list)
}

/// Reads a `List(Export)`.
pub(crate) fn read_list(
    list: capnp::struct_list::Reader<'_, export::Owned>,
) -> capnp::Result<Vec<Export>> {
    list.iter().map(Export::read).collect()
}
