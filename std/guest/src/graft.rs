//! Grafting: receiving the cell's capabilities from the Membrane.

use capnp::capability::FromClientHook;
use ww_capnp::membrane_capnp::membrane;

/// One granted capability: its name, the untyped client and its interface's
/// schema node (to introspect or call it without compiled-in types), as
/// [`ww_capnp::export`] reads it.
pub use ww_capnp::export::Export;

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
    let exports = ww_capnp::export::read_list(results.get_caps()?)?;
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
            Some(export) => Ok(C::new(export.cap.hook.add_ref())),
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
