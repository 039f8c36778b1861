//! What peers asked for that this node did not have: remembered, so the
//! block (or a HAVE) goes to them as soon as it arrives, as Kubo's engine
//! does with a peer's wantlist.
//!
//! Without it a peer that heard DONT_HAVE could only learn of the block by
//! asking again. Bounded like everything a peer can make us store: at most
//! [`WANTS_PER_PEER`] per peer (the oldest go first) and [`PEERS`] peers
//! (wants from more peers are answered but not remembered).

use std::collections::{HashMap, VecDeque};

use cid::Cid;

/// Wants remembered for one peer.
pub const WANTS_PER_PEER: usize = 1024;

/// Peers whose wants are remembered at once.
pub const PEERS: usize = 256;

/// One remembered want.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remembered {
    /// The block wanted.
    pub cid: Cid,
    /// The block itself (want-block), or only word that we have it
    /// (want-have).
    pub want_block: bool,
}

/// Remembered wants, by peer, each keyed by multihash bytes like the store.
#[derive(Debug, Default)]
pub struct Ledger {
    peers: HashMap<String, VecDeque<(Vec<u8>, Remembered)>>,
}

impl Ledger {
    /// Remembers that `peer` wants `cid`; whether it was (bounds).
    pub fn remember(&mut self, peer: &str, cid: Cid, want_block: bool) -> bool {
        if !self.peers.contains_key(peer) && self.peers.len() >= PEERS {
            return false;
        }
        let wants = self.peers.entry(peer.to_string()).or_default();
        let key = cid.hash().to_bytes();
        wants.retain(|(k, _)| *k != key);
        if wants.len() >= WANTS_PER_PEER {
            wants.pop_front();
        }
        wants.push_back((key, Remembered { cid, want_block }));
        true
    }

    /// Forgets `peer`'s want of the block `key` (it cancelled).
    pub fn forget(&mut self, peer: &str, key: &[u8]) {
        if let Some(wants) = self.peers.get_mut(peer) {
            wants.retain(|(k, _)| k != key);
            if wants.is_empty() {
                self.peers.remove(peer);
            }
        }
    }

    /// Takes every remembered want of the block `key`: who wanted it, how.
    pub fn take(&mut self, key: &[u8]) -> Vec<(String, Remembered)> {
        self.take_where(|k| k == key)
    }

    /// Takes every remembered want whose block `present` says is here now.
    pub fn take_where(
        &mut self,
        mut present: impl FnMut(&[u8]) -> bool,
    ) -> Vec<(String, Remembered)> {
        let mut out = Vec::new();
        self.peers.retain(|peer, wants| {
            wants.retain(|(key, want)| {
                if present(key) {
                    out.push((peer.clone(), want.clone()));
                    false
                } else {
                    true
                }
            });
            !wants.is_empty()
        });
        out
    }

    /// How many wants are remembered.
    pub fn len(&self) -> usize {
        self.peers.values().map(VecDeque::len).sum()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cid(n: u8) -> Cid {
        let hash = multihash::Multihash::<64>::wrap(0x12, &[n; 32]).unwrap();
        Cid::new_v1(0x55, hash)
    }

    #[test]
    fn wants_are_bounded_per_peer_and_in_peers() {
        let mut ledger = Ledger::default();
        for i in 0..(WANTS_PER_PEER + 10) {
            let hash = multihash::Multihash::<64>::wrap(0x12, &(i as u64).to_le_bytes()).unwrap();
            assert!(ledger.remember("p", Cid::new_v1(0x55, hash), true));
        }
        assert_eq!(ledger.len(), WANTS_PER_PEER);
        for i in 1..PEERS {
            assert!(ledger.remember(&format!("p{i}"), cid(1), true));
        }
        assert!(!ledger.remember("one too many", cid(1), true));
        // A peer already known still gets its wants remembered.
        assert!(ledger.remember("p1", cid(2), false));
    }

    #[test]
    fn a_block_is_taken_once_for_every_peer_that_wants_it() {
        let mut ledger = Ledger::default();
        ledger.remember("a", cid(1), true);
        ledger.remember("b", cid(1), false);
        ledger.remember("b", cid(2), true);
        ledger.forget("a", &cid(2).hash().to_bytes());
        let mut taken = ledger.take(&cid(1).hash().to_bytes());
        taken.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(taken.len(), 2);
        assert!(taken[0].1.want_block && !taken[1].1.want_block);
        assert!(ledger.take(&cid(1).hash().to_bytes()).is_empty());
        ledger.forget("b", &cid(2).hash().to_bytes());
        assert!(ledger.is_empty());
    }
}
