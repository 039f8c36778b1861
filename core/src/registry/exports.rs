//! The node's table of started providers' exports: what grafts hand out.
//!
//! A table rather than a list fixed at boot because a provider process can
//! die and be restarted: its new capabilities replace the dead ones under
//! the same names, so the next graft hands them out. Capabilities already
//! handed out are not swapped under their holders (they keep failing with
//! `providerDown`, naming the provider): a restarted provider has lost
//! whatever state the old one had, and a holder should know.

use std::cell::RefCell;
use std::rc::Rc;

use ww_provider_sdk::manifest::Audience;
use ww_provider_sdk::Export;

/// Shared by the registry (which replaces a restarted provider's exports)
/// and every membrane that grafts from it.
#[derive(Clone, Default)]
pub struct Exports {
    all: Rc<RefCell<Vec<(Audience, Export)>>>,
}

impl Exports {
    /// What cells may graft now (exports meant for guests), in start order.
    pub fn guests(&self) -> Vec<Export> {
        self.all
            .borrow()
            .iter()
            .filter(|(a, _)| *a == Audience::Guests)
            .map(|(_, x)| x.clone())
            .collect()
    }

    /// The export called `name`, whoever may receive it.
    pub fn get(&self, name: &str) -> Option<Export> {
        self.all
            .borrow()
            .iter()
            .find(|(_, x)| x.name == name)
            .map(|(_, x)| x.clone())
    }

    pub(super) fn push(&self, audience: Audience, export: Export) {
        self.all.borrow_mut().push((audience, export));
    }

    /// Puts each of `exports` in the place of the export of the same name.
    pub(super) fn replace(&self, exports: Vec<Export>) {
        let mut all = self.all.borrow_mut();
        for export in exports {
            if let Some(slot) = all.iter_mut().find(|(_, x)| x.name == export.name) {
                slot.1 = export;
            }
        }
    }
}
