//! Schema nodes the shell calls capabilities through: ww's own (compiled
//! in) and those each graft carries in `Export.types` (a third party's).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use capnp::message::TypedReader;
use capnp::schema_capnp::node;
use capnp::serialize::OwnedSegments;
use ww_capnp::schema::{self, SchemaNode, SchemaSet};

/// A parsed node, shared.
pub type Node = Rc<TypedReader<OwnedSegments, node::Owned>>;

/// Every node the shell knows, by id, parsed once on first use.
pub struct Schemas {
    builtin: SchemaSet,
    parsed: RefCell<HashMap<u64, Node>>,
    carried: RefCell<HashMap<u64, SchemaNode>>,
    /// Each grafted interface with the nodes its methods use, to hand on
    /// with a capability (`Export.schema`, `Export.types`).
    interfaces: RefCell<HashMap<u64, SchemaNode>>,
}

impl Schemas {
    /// ww's own schemas, nothing carried yet.
    pub fn new() -> Schemas {
        Schemas {
            builtin: schema::builtin(),
            parsed: RefCell::new(HashMap::new()),
            carried: RefCell::new(HashMap::new()),
            interfaces: RefCell::new(HashMap::new()),
        }
    }

    /// Learns an export's interface node and the nodes it carries.
    pub fn learn(&self, interface: &SchemaNode) {
        self.interfaces
            .borrow_mut()
            .entry(interface.id())
            .or_insert_with(|| interface.clone());
        let mut carried = self.carried.borrow_mut();
        for n in std::iter::once(interface).chain(interface.types()) {
            carried
                .entry(n.id())
                .or_insert_with(|| n.clone().with_types(Vec::new()));
        }
    }

    /// The interface `id` with the nodes its methods use, as an export
    /// carries it: a grafted one as it came, one of ww's own from the
    /// compiled-in schemas; `None` for another.
    pub fn interface(&self, id: u64) -> Option<SchemaNode> {
        if let Some(known) = self.interfaces.borrow().get(&id) {
            return Some(known.clone());
        }
        SchemaNode::from_set(&self.builtin, id).ok()
    }

    /// The node `id`, or an error naming it.
    pub fn node(&self, id: u64) -> capnp::Result<Node> {
        if let Some(n) = self.parsed.borrow().get(&id) {
            return Ok(n.clone());
        }
        let copy = match self.carried.borrow().get(&id) {
            Some(n) => n.clone(),
            None => SchemaNode::copy_of(self.builtin.require(id).map_err(|_| {
                capnp::Error::failed(format!(
                    "the shell has no schema for type {id:#018x} (its provider did not send it in Export.types)"
                ))
            })?)?,
        };
        let parsed: Node = Rc::new(copy.read()?);
        self.parsed.borrow_mut().insert(id, parsed.clone());
        Ok(parsed)
    }
}
