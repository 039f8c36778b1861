//! A single-threaded executor that sleeps in `wasi:io/poll`.
//!
//! A cell has one thread and its only I/O is WASI streams, so the executor is
//! a loop: poll the future; if it is pending and nothing woke it meanwhile,
//! block in `wasi:io/poll.poll` on the pollables that pending I/O registered,
//! then wake the tasks whose pollables are ready. There is no timer and no
//! busy loop: a cell waiting on the host costs nothing, and a reply wakes it
//! at once (the system this replaces missed the stream's wake-up and fell
//! back to a 100 ms timer, making every capability call ~200 ms).

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::reactor;

/// Runs `future` to completion on the current thread and returns its output.
///
/// # Panics
///
/// When the future is pending, nothing has woken it, and no I/O is waiting
/// on a pollable: nothing could ever make progress (a deadlock, e.g. awaiting
/// a channel whose sender lives in a future nobody polls).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let flag = Arc::new(Flag(AtomicBool::new(true)));
    let waker = Waker::from(Arc::clone(&flag));
    let mut cx = Context::from_waker(&waker);
    loop {
        flag.0.store(false, Ordering::Relaxed);
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // Woken while being polled (one task of the future unblocked
        // another, e.g. a call queued for the RPC system): poll again.
        if flag.0.load(Ordering::Relaxed) {
            // Let I/O that became ready meanwhile wake its tasks too, so a
            // computation that keeps yielding cannot starve them.
            reactor::wake_ready();
            continue;
        }
        if !reactor::wait() {
            panic!(
                "ww_guest::executor::block_on: deadlock: the future is pending, \
                 nothing woke it and no I/O is waiting on a pollable"
            );
        }
    }
}

/// Set when the top-level future is woken.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }
}
