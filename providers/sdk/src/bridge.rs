//! The duplex byte stream between host and plugin, as `futures` I/O.
//!
//! Each direction is a [`ByteSink`](crate::ffi::ByteSink) on the receiving
//! side: the sender pushes a chunk through an FFI call, the sink queues it,
//! and the receiver's [`SinkReader`] hands it to its Cap'n Proto vat. No
//! thread blocks on a receive.
//!
//! # Bound
//!
//! A direction holds at most [`MAX_QUEUED_BYTES`]. capnp-rpc has no flow
//! control of its own outside streaming calls (its outgoing queue is
//! unbounded too), so this queue only holds what a vat has already decided
//! to send; the limit catches a peer that stopped reading (a stuck plugin
//! thread). Past it the sink refuses, the sender's write fails with
//! `BrokenPipe`, and both vats see the link drop — logged, never a panic.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use abi_stable::std_types::RSlice;
use futures::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

use crate::ffi::{ByteSink, ByteSinkBox, ByteSink_TO};

/// Bytes one direction may hold before the link is declared broken.
pub const MAX_QUEUED_BYTES: usize = 64 << 20;

/// Creates one direction: the sink to hand to the sender, and the reader.
pub(crate) fn channel() -> (ByteSinkBox, SinkReader) {
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let sink = QueueSink {
        tx: Mutex::new(Some(tx)),
        queued: queued.clone(),
    };
    let reader = SinkReader {
        rx,
        queued,
        chunk: Vec::new(),
        pos: 0,
    };
    (
        ByteSink_TO::from_value(sink, abi_stable::sabi_trait::TD_Opaque),
        reader,
    )
}

/// The receiving side's sink: queues chunks for its [`SinkReader`].
struct QueueSink {
    tx: Mutex<Option<mpsc::UnboundedSender<Vec<u8>>>>,
    queued: Arc<AtomicUsize>,
}

impl ByteSink for QueueSink {
    fn send(&self, bytes: RSlice<'_, u8>) -> bool {
        // Called across FFI: must not panic, so no unwraps and no poisoning.
        let guard = match self.tx.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Some(tx) = guard.as_ref() else {
            return false;
        };
        let len = bytes.len();
        let before = self.queued.fetch_add(len, Ordering::AcqRel);
        if before.saturating_add(len) > MAX_QUEUED_BYTES {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            return false;
        }
        tx.send(bytes.as_slice().to_vec()).is_ok()
    }

    fn close(&self) {
        let mut guard = match self.tx.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.take();
    }
}

/// Reads what the peer pushed into the matching sink; end-of-stream once the
/// sink is closed or dropped.
pub(crate) struct SinkReader {
    rx: mpsc::UnboundedReceiver<Vec<u8>>,
    queued: Arc<AtomicUsize>,
    chunk: Vec<u8>,
    pos: usize,
}

impl AsyncRead for SinkReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        while this.pos >= this.chunk.len() {
            match this.rx.poll_recv(cx) {
                Poll::Ready(Some(chunk)) => {
                    this.queued.fetch_sub(chunk.len(), Ordering::AcqRel);
                    this.chunk = chunk;
                    this.pos = 0;
                }
                Poll::Ready(None) => return Poll::Ready(Ok(0)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = buf.len().min(this.chunk.len() - this.pos);
        buf[..n].copy_from_slice(&this.chunk[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(n))
    }
}

/// Writes into the peer's sink.
pub(crate) struct SinkWriter {
    // Boxed: abi_stable's trait objects are not `Unpin`.
    sink: Option<Box<ByteSinkBox>>,
    // Bytes written since the last flush. Cap'n Proto writes a message as
    // several pieces (segment table, segments) and its write queue flushes
    // once per message; handing each piece to the other thread separately
    // would wake it once per piece, so pieces are gathered and sent on flush.
    pending: Vec<u8>,
}

/// Gathered bytes are sent without waiting for a flush past this size.
const GATHER_LIMIT: usize = 64 * 1024;

impl SinkWriter {
    pub(crate) fn new(sink: ByteSinkBox) -> Self {
        SinkWriter {
            sink: Some(Box::new(sink)),
            pending: Vec::new(),
        }
    }

    fn send_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let sent = match &self.sink {
            Some(sink) => sink.send(RSlice::from_slice(&self.pending)),
            None => false,
        };
        self.pending.clear();
        if sent {
            Ok(())
        } else {
            Err(broken())
        }
    }
}

fn broken() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "the provider link is closed or its peer stopped reading",
    )
}

impl AsyncWrite for SinkWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.sink.is_none() {
            return Poll::Ready(Err(broken()));
        }
        this.pending.extend_from_slice(buf);
        if this.pending.len() >= GATHER_LIMIT {
            if let Err(e) = this.send_pending() {
                return Poll::Ready(Err(e));
            }
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.get_mut().send_pending())
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let flushed = this.send_pending();
        if let Some(sink) = this.sink.take() {
            sink.close();
        }
        Poll::Ready(flushed)
    }
}

impl Drop for SinkWriter {
    fn drop(&mut self) {
        let _ = self.send_pending();
        if let Some(sink) = self.sink.take() {
            sink.close();
        }
    }
}
