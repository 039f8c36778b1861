//! Grafting: receiving the cell's capabilities from the Membrane.

use capnp::capability::FromClientHook;
use ww_capnp::membrane_capnp::membrane;
use ww_capnp::schema::{method_names, short_name, SchemaNode};

/// Calls `Membrane.graft()` and collects what it returned.
///
/// Capabilities are guarded by the epoch they were grafted in; when a call
/// fails with [`crate::stale_epoch`], graft again.
///
/// # Errors
///
/// When the call fails (the vat is gone, the host refused) or the answer is
/// malformed.
pub async fn graft(membrane: &membrane::Client) -> Result<Caps, capnp::Error> {
    let response = membrane.graft_request().send().promise.await?;
    let results = response.get()?;
    let epoch = results.get_epoch()?.get_seq();
    let mut exports = Vec::new();
    for export in results.get_caps()? {
        exports.push(Export {
            name: export.get_name()?.to_string()?,
            client: export.get_cap().get_as_capability()?,
            schema: SchemaNode::copy_of(export.get_schema()?)?
                .with_types(SchemaNode::read_list(export.get_types()?)?),
        });
    }
    Ok(Caps { epoch, exports })
}

/// The capabilities of one graft, by name, and the epoch they belong to.
pub struct Caps {
    epoch: u64,
    exports: Vec<Export>,
}

impl Caps {
    /// The epoch these capabilities were granted in (`Epoch.seq`).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Every capability's name, in the host's (sorted) order.
    pub fn names(&self) -> Vec<&str> {
        self.exports.iter().map(|e| e.name.as_str()).collect()
    }

    /// The capability `name`, as the typed client `C` (e.g.
    /// `identity_capnp::identity::Client`).
    ///
    /// The type is not checked here: a client of the wrong interface fails
    /// on its first call. Compare [`Export::schema`]'s id with
    /// `C::TYPE_ID` to check first.
    ///
    /// # Errors
    ///
    /// When this graft has no capability `name`; the message lists the names
    /// it has.
    pub fn get<C: FromClientHook>(&self, name: &str) -> Result<C, capnp::Error> {
        match self.exports.iter().find(|e| e.name == name) {
            Some(export) => Ok(C::new(export.client.hook.add_ref())),
            None => Err(capnp::Error::failed(format!(
                "no capability named {name:?} was granted; granted: [{}]",
                self.names().join(", ")
            ))),
        }
    }

    /// Every capability, in the host's (sorted) order.
    pub fn iter(&self) -> std::slice::Iter<'_, Export> {
        self.exports.iter()
    }
}

impl<'a> IntoIterator for &'a Caps {
    type Item = &'a Export;
    type IntoIter = std::slice::Iter<'a, Export>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// One granted capability: its name, the untyped client and its interface's
/// schema node (to introspect or call it without compiled-in types).
pub struct Export {
    name: String,
    client: capnp::capability::Client,
    schema: SchemaNode,
}

impl Export {
    /// The capability's name, unique within its graft (e.g. `identity`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The capability, untyped; cast with `client.cast_to::<C>()`.
    pub fn client(&self) -> &capnp::capability::Client {
        &self.client
    }

    /// The interface's schema node, as the host sent it.
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

    /// Writes this capability into an `Export` being built, e.g. one of the
    /// `caps` handed to a child by `Executor.spawn` (attenuation: pass only
    /// what the child needs).
    ///
    /// # Errors
    ///
    /// When the schema node cannot be copied (never for a node from a graft).
    pub fn write(
        &self,
        mut builder: ww_capnp::membrane_capnp::export::Builder<'_>,
    ) -> capnp::Result<()> {
        builder.set_name(self.name.as_str());
        builder
            .reborrow()
            .init_cap()
            .set_as_capability(self.client.hook.add_ref());
        builder.set_schema(self.schema.read()?.get()?)?;
        let types = self.schema.types().len() as u32;
        self.schema.write_types(builder.init_types(types))
    }
}
