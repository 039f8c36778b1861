//! Admission control: a bound on concurrent inbound streams per protocol and
//! per peer, so one peer (or a flood of them) cannot make a node hold
//! unbounded streams. Excess is refused at once, never queued.
//!
//! Byte-stream protocols and vat protocols have separate limits: an
//! admitted vat runs a whole Cap'n Proto RPC system for its peer, so a node
//! admits fewer of them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use libp2p::PeerId;

/// The bounds for one listening protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Concurrent inbound streams on the protocol, from all peers.
    pub total: usize,
    /// Concurrent inbound streams on the protocol from one peer.
    pub per_peer: usize,
}

impl Default for Limits {
    /// The defaults of a byte-stream protocol.
    fn default() -> Self {
        Limits {
            total: 64,
            per_peer: 16,
        }
    }
}

impl Limits {
    /// The defaults of a vat protocol: each admitted stream runs an RPC
    /// system, so fewer than for byte streams.
    pub fn vats() -> Limits {
        Limits {
            total: 32,
            per_peer: 8,
        }
    }
}

/// Counts the streams admitted on one protocol.
#[derive(Clone, Debug)]
pub struct Admission {
    limits: Limits,
    /// What is admitted ("streams", "vats"), named in refusals.
    what: &'static str,
    counts: Rc<RefCell<Counts>>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_peer: HashMap<PeerId, usize>,
}

impl Admission {
    /// Nothing admitted yet; `what` names the admitted things in refusals
    /// (e.g. "streams", "vats").
    pub fn new(limits: Limits, what: &'static str) -> Admission {
        Admission {
            limits,
            what,
            counts: Rc::default(),
        }
    }

    /// Admits one more stream from `peer`, or says which limit it hit.
    ///
    /// # Errors
    ///
    /// The refusal reason, naming the limit.
    pub fn admit(&self, peer: PeerId) -> Result<Permit, String> {
        let mut counts = self.counts.borrow_mut();
        if counts.total >= self.limits.total {
            return Err(format!(
                "this protocol already has {} open {} (its limit); retry later",
                self.limits.total, self.what
            ));
        }
        let of_peer = counts.by_peer.entry(peer).or_default();
        if *of_peer >= self.limits.per_peer {
            return Err(format!(
                "you already have {} open {} on this protocol (the per-peer limit); close \
                 one first",
                self.limits.per_peer, self.what
            ));
        }
        *of_peer += 1;
        counts.total += 1;
        Ok(Permit {
            peer,
            counts: self.counts.clone(),
        })
    }
}

/// One admitted stream; dropping it frees its place.
#[derive(Debug)]
pub struct Permit {
    peer: PeerId,
    counts: Rc<RefCell<Counts>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut counts = self.counts.borrow_mut();
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.by_peer.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                counts.by_peer.remove(&self.peer);
            }
        }
    }
}
