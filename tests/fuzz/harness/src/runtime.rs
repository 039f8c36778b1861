//! Driving async code deterministically: one current-thread runtime, a
//! fresh `LocalSet` per input, a bounded number of turns.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// How many turns of the runtime an input gets before the harness stops
/// it: enough for the longest seed to finish, small enough that an input
/// that parks forever (a call that never returns) costs little.
pub const TURNS: usize = 256;

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime");
}

/// Runs `main` on a fresh `LocalSet` until it ends or `turns` turns of the
/// runtime have passed; then drops every task it spawned. Returns whether
/// `main` ended.
pub fn run_local<F: Future<Output = ()> + 'static>(turns: usize, main: impl FnOnce() -> F) -> bool {
    RUNTIME.with(|rt| {
        let local = tokio::task::LocalSet::new();
        let ended = local.block_on(rt, async move {
            let main = main();
            tokio::select! {
                biased;
                () = main => true,
                () = idle(turns) => false,
            }
        });
        drop(local);
        ended
    })
}

/// Yields `turns` times, letting every other task run between.
pub async fn idle(turns: usize) {
    for _ in 0..turns {
        tokio::task::yield_now().await;
    }
}

/// Writes `data` into `stream` in pieces of `chunk` bytes, letting the
/// reader run between pieces (as a cell's stream writes arrive), then
/// closes it.
pub async fn feed(mut stream: tokio::io::WriteHalf<DuplexStream>, data: Vec<u8>, chunk: usize) {
    for piece in data.chunks(chunk.max(1)) {
        if stream.write_all(piece).await.is_err() {
            return;
        }
        tokio::task::yield_now().await;
    }
    let _ = stream.shutdown().await;
}

/// Reads and drops whatever comes out of `stream`, so the other side never
/// blocks on a full pipe.
pub async fn drain(mut stream: tokio::io::ReadHalf<DuplexStream>, seen: Rc<RefCell<usize>>) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            return;
        }
        *seen.borrow_mut() += n;
    }
}
