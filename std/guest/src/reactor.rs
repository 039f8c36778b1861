//! The thread-local reactor: which pollable wakes which task.
//!
//! Pending I/O ([`crate::io`]) registers its WASI pollable with the waker of
//! the task that must run when it becomes ready; [`crate::executor::block_on`]
//! blocks in `wasi:io/poll.poll` on all of them at once. Registrations are
//! keyed by I/O source, so a source polled again replaces its entry instead of
//! piling up duplicates, and a source deregisters before its stream is
//! dropped (WASI traps when a stream is dropped while a pollable on it lives).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::task::Waker;

use crate::bindings::{poll, Pollable};

/// Identifies one I/O source (one stream) in the reactor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key(u64);

thread_local! {
    static NEXT_KEY: Cell<u64> = const { Cell::new(0) };
    static WAITING: RefCell<BTreeMap<Key, (Rc<Pollable>, Waker)>> =
        const { RefCell::new(BTreeMap::new()) };
}

impl Key {
    /// A key no other source of this thread uses.
    pub(crate) fn fresh() -> Key {
        NEXT_KEY.with(|next| {
            let key = next.get();
            next.set(key + 1);
            Key(key)
        })
    }
}

/// Wake `waker` when `pollable` is ready; replaces `key`'s previous entry.
pub(crate) fn register(key: Key, pollable: Rc<Pollable>, waker: &Waker) {
    WAITING.with(|w| {
        w.borrow_mut().insert(key, (pollable, waker.clone()));
    });
}

/// Forget `key`'s entry, dropping the reactor's reference to its pollable.
pub(crate) fn deregister(key: Key) {
    // A source may be dropped during thread teardown, after the map is gone.
    let _ = WAITING.try_with(|w| w.borrow_mut().remove(&key));
}

/// Wakes the tasks whose pollables are ready now, without blocking.
///
/// The executor calls it when a task woke itself (a long computation that
/// yields): it would poll again at once and never reach [`wait`], so
/// without this the other tasks' I/O (an RPC message such as an interrupt)
/// would go unnoticed until the computation ends.
pub(crate) fn wake_ready() {
    let wakers: Vec<Waker> = WAITING.with(|w| {
        let mut w = w.borrow_mut();
        let ready: Vec<Key> = w
            .iter()
            .filter(|(_, (pollable, _))| pollable.ready())
            .map(|(key, _)| *key)
            .collect();
        ready
            .iter()
            .filter_map(|key| w.remove(key).map(|(_, waker)| waker))
            .collect()
    });
    for waker in wakers {
        waker.wake();
    }
}

/// Blocks until at least one registered pollable is ready, then wakes the
/// tasks waiting on the ready ones (and forgets them: they register again if
/// they still have nothing to do).
///
/// Returns `false`, without blocking, when nothing is registered.
pub(crate) fn wait() -> bool {
    let entries: Vec<(Key, Rc<Pollable>)> = WAITING.with(|w| {
        w.borrow()
            .iter()
            .map(|(key, (pollable, _))| (*key, Rc::clone(pollable)))
            .collect()
    });
    if entries.is_empty() {
        return false;
    }
    let pollables: Vec<&Pollable> = entries.iter().map(|(_, p)| p.as_ref()).collect();
    let ready = poll(&pollables);
    let wakers: Vec<Waker> = WAITING.with(|w| {
        let mut w = w.borrow_mut();
        ready
            .iter()
            .filter_map(|&i| entries.get(i as usize))
            .filter_map(|(key, _)| w.remove(key).map(|(_, waker)| waker))
            .collect()
    });
    drop(pollables);
    drop(entries);
    for waker in wakers {
        waker.wake();
    }
    true
}
