//! How many bytes the store holds, and the signal that it holds more than
//! the node allows (`ipfs-store-max`), for the collection to run.
//!
//! The count starts from one walk of the store (only when a limit is set),
//! grows with every block moved in and is set again by every sweep, so
//! blocks removed by hand or by a check drift it only until the next
//! collection.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

/// The store's size and its limit.
#[derive(Debug)]
pub struct Usage {
    bytes: AtomicU64,
    /// The limit (`u64::MAX`: none).
    max: AtomicU64,
    /// A collection is asked for past this many bytes (`u64::MAX`: never).
    trigger: AtomicU64,
    over: Notify,
}

impl Default for Usage {
    fn default() -> Self {
        Usage {
            bytes: AtomicU64::new(0),
            max: AtomicU64::new(u64::MAX),
            trigger: AtomicU64::new(u64::MAX),
            over: Notify::new(),
        }
    }
}

impl Usage {
    /// Bytes of blocks in the store, as counted.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Counts `n` more bytes; past the trigger, asks for a collection.
    pub(crate) fn grew(&self, n: u64) {
        let now = self.bytes.fetch_add(n, Ordering::Relaxed) + n;
        if now > self.trigger.load(Ordering::Relaxed) {
            self.over.notify_one();
        }
    }

    /// The limit, if one is set.
    pub fn limit(&self) -> Option<u64> {
        Some(self.max.load(Ordering::Relaxed)).filter(|max| *max != u64::MAX)
    }

    /// Sets the limit.
    pub(crate) fn limit_to(&self, max: u64) {
        self.max.store(max, Ordering::Relaxed);
    }

    /// The count after a walk or a sweep found `bytes`, with the next
    /// trigger: the limit, or (when pinned content alone exceeds it) an
    /// eighth of the limit more than what stays, so a store that cannot
    /// shrink is not swept at every write.
    pub(crate) fn measured(&self, bytes: u64) {
        self.bytes.store(bytes, Ordering::Relaxed);
        let max = self.max.load(Ordering::Relaxed);
        if max == u64::MAX {
            return;
        }
        let trigger = if bytes > max {
            bytes.saturating_add(max / 8 + 1)
        } else {
            max
        };
        self.trigger.store(trigger, Ordering::Relaxed);
    }

    /// Waits until the store grows past its trigger.
    pub(crate) async fn exceeded(&self) {
        self.over.notified().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_that_cannot_shrink_is_not_swept_at_every_write() {
        let usage = Usage::default();
        usage.measured(100);
        assert_eq!(usage.trigger.load(Ordering::Relaxed), u64::MAX);
        usage.limit_to(1000);
        usage.measured(100);
        usage.grew(900);
        assert_eq!(usage.bytes(), 1000);
        // Pinned content alone is over the limit: the next trigger is past it.
        usage.measured(1200);
        assert_eq!(usage.trigger.load(Ordering::Relaxed), 1200 + 126);
        usage.measured(10);
        assert_eq!(usage.trigger.load(Ordering::Relaxed), 1000);
    }
}
