//! The membrane: the bootstrap capability of every cell's vat.
//!
//! `graft()` returns every capability the cell may use, sorted by name, each
//! wrapped by the current epoch's guard (see [`epoch`](crate::epoch)), with
//! its schema node so that the guest can call capabilities it was never
//! compiled against.

use std::rc::Rc;

use ww_provider_sdk::capnp;
use ww_provider_sdk::proxy;
use ww_provider_sdk::ww_capnp::export as codec;
use ww_provider_sdk::ww_capnp::membrane_capnp::membrane;
use ww_provider_sdk::Export;

use crate::epoch::{Epoch, EpochGuard, Epochs};
use crate::registry::Exports;
use crate::rpc_budget::CellBudget;

/// Serves `Membrane` over a set of exports.
pub struct MembraneServer {
    exports: Source,
    epochs: Rc<Epochs>,
    budget: Rc<CellBudget>,
}

/// What a membrane grafts from.
enum Source {
    /// A fixed set, sorted by name (a child's: what its parent passed).
    Fixed(Rc<[Export]>),
    /// The node's table, read at each graft (so a restarted provider's new
    /// exports are what the next graft hands out).
    Live(Exports),
}

impl MembraneServer {
    /// A membrane over `exports` (sorted here by name) in `epochs`, for the
    /// cell whose account is `budget`.
    pub fn new(
        mut exports: Vec<Export>,
        epochs: Rc<Epochs>,
        budget: Rc<CellBudget>,
    ) -> MembraneServer {
        exports.sort_by(|a, b| a.name.cmp(&b.name));
        MembraneServer {
            exports: Source::Fixed(exports.into()),
            epochs,
            budget,
        }
    }

    /// A membrane over the guest exports of the node's table, as they are
    /// at each graft.
    pub fn live(exports: Exports, epochs: Rc<Epochs>, budget: Rc<CellBudget>) -> MembraneServer {
        MembraneServer {
            exports: Source::Live(exports),
            epochs,
            budget,
        }
    }

    /// The exports a graft hands out now, sorted by name.
    fn current(&self) -> Rc<[Export]> {
        match &self.exports {
            Source::Fixed(exports) => exports.clone(),
            Source::Live(table) => {
                let mut exports = table.guests();
                exports.sort_by(|a, b| a.name.cmp(&b.name));
                exports.into()
            }
        }
    }

    /// The account of the cell this membrane serves.
    pub fn budget(&self) -> &Rc<CellBudget> {
        &self.budget
    }

    /// This membrane as a capability.
    pub fn into_client(self) -> membrane::Client {
        capnp_rpc::new_client(self)
    }

    /// This shared membrane as a capability (for the vat, while the WIT
    /// door keeps calling it directly).
    pub fn client(self: &Rc<Self>) -> membrane::Client {
        capnp_rpc::new_client_from_rc(self.clone())
    }

    /// What a graft hands out, through either door.
    ///
    /// # Errors
    ///
    /// When the cell may not hold that many more capabilities, or has lost
    /// its capabilities (see [`CellBudget`]).
    pub fn grant(&self) -> Result<Grant, capnp::Error> {
        let guard = self.epochs.guard(&self.budget);
        let exports = self
            .current()
            .iter()
            .map(|export| {
                Ok(export
                    .clone()
                    .with_cap(proxy::wrap(export.cap.clone(), guard.clone())?))
            })
            .collect::<capnp::Result<_>>()?;
        Ok(Grant {
            epoch: Epoch {
                seq: guard.seq(),
                ..self.epochs.current()
            },
            guard,
            exports,
        })
    }

    /// The current epoch.
    pub fn current_epoch(&self) -> Epoch {
        self.epochs.current()
    }
}

/// One graft: the epoch it belongs to, that epoch's guard, and every
/// export wrapped with the guard (each keeps its [`direct`](Export::direct)
/// object, for a caller that makes the guard's check itself).
pub struct Grant {
    /// The epoch the capabilities belong to.
    pub epoch: Epoch,
    /// Its guard.
    pub guard: EpochGuard,
    /// The guarded exports, sorted by name.
    pub exports: Vec<Export>,
}

fn write_epoch(
    mut builder: ww_provider_sdk::ww_capnp::membrane_capnp::epoch::Builder<'_>,
    epoch: &Epoch,
) {
    builder.set_seq(epoch.seq);
    builder.set_head(&epoch.head);
}

impl membrane::Server for MembraneServer {
    async fn graft(
        self: Rc<Self>,
        _: membrane::GraftParams,
        mut results: membrane::GraftResults,
    ) -> Result<(), capnp::Error> {
        let grant = self.grant()?;
        let mut out = results.get();
        write_epoch(out.reborrow().init_epoch(), &grant.epoch);
        let caps = out.init_caps(codec::list_len(grant.exports.len())?);
        codec::write_list(&grant.exports, caps)
    }

    async fn epoch(
        self: Rc<Self>,
        _: membrane::EpochParams,
        mut results: membrane::EpochResults,
    ) -> Result<(), capnp::Error> {
        write_epoch(results.get().init_epoch(), &self.current_epoch());
        Ok(())
    }
}
