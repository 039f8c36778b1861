//! Async adapters for the WASI streams that carry the RPC vat.
//!
//! capnp-rpc speaks `futures::io::{AsyncRead, AsyncWrite}`; WASI streams are
//! non-blocking calls plus a pollable that says when to try again. When a
//! stream cannot make progress, these adapters register its pollable with the
//! reactor (see [`crate::executor`]) and return `Pending`, so the executor
//! sleeps in `wasi:io/poll` until the host has bytes or room for them.

use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};

use crate::bindings::{InputStream, OutputStream, Pollable, StreamError};
use crate::reactor::{self, Key};

/// Most bytes asked of the host per read: one host call fills many small
/// reads of the Cap'n Proto framing.
const READ_CHUNK: usize = 64 * 1024;

mod stdin_bindings {
    wit_bindgen::generate!({
        world: "wasi:cli/stdin-stream",
        path: ["../../wit/rpc/deps/io", "wit/stdin"],
        with: {
            "wasi:io/streams@0.2.12": crate::bindings::wasi::io::streams,
            "wasi:io/error@0.2.12": crate::bindings::wasi::io::error,
            "wasi:io/poll@0.2.12": crate::bindings::wasi::io::poll,
        },
    });
}

/// The cell's stdin as an [`AsyncRead`]: reading waits on the stream's
/// pollable, so the cell's other tasks (its RPC vat, capabilities it
/// serves) keep running while it waits for input. End of input reads as
/// `Ok(0)`. Call it once; a second reader would compete for the bytes.
pub fn stdin() -> StreamReader {
    StreamReader::new(stdin_bindings::wasi::cli::stdin::get_stdin())
}

/// The read half of the vat: a WASI `input-stream` as an [`AsyncRead`].
///
/// Reads never block the cell; an empty stream parks the task on the
/// stream's pollable. End of stream (the host closed the vat) reads as `Ok(0)`.
pub struct StreamReader {
    key: Key,
    // Declared before `stream`: a pollable must be dropped before its stream.
    pollable: Option<Rc<Pollable>>,
    buffered: Vec<u8>,
    consumed: usize,
    stream: Option<InputStream>,
}

impl StreamReader {
    pub(crate) fn new(stream: InputStream) -> Self {
        StreamReader {
            key: Key::fresh(),
            pollable: None,
            buffered: Vec::new(),
            consumed: 0,
            stream: Some(stream),
        }
    }

    fn park(&mut self, cx: &mut Context<'_>) {
        if let Some(stream) = &self.stream {
            let pollable = self
                .pollable
                .get_or_insert_with(|| Rc::new(stream.subscribe()));
            reactor::register(self.key, Rc::clone(pollable), cx.waker());
        }
    }
}

impl AsyncRead for StreamReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.consumed == this.buffered.len() {
            let Some(stream) = &this.stream else {
                return Poll::Ready(Ok(0));
            };
            let want = buf.len().max(READ_CHUNK) as u64;
            match stream.read(want) {
                Ok(bytes) if bytes.is_empty() => {
                    this.park(cx);
                    return Poll::Pending;
                }
                Ok(bytes) => {
                    this.buffered = bytes;
                    this.consumed = 0;
                }
                Err(StreamError::Closed) => return Poll::Ready(Ok(0)),
                Err(StreamError::LastOperationFailed(e)) => {
                    return Poll::Ready(Err(io::Error::other(e.to_debug_string())))
                }
            }
        }
        let available = &this.buffered[this.consumed..];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        this.consumed += n;
        Poll::Ready(Ok(n))
    }
}

impl Drop for StreamReader {
    fn drop(&mut self) {
        reactor::deregister(self.key);
        self.pollable = None;
    }
}

/// The write half of the vat: a WASI `output-stream` as an [`AsyncWrite`].
///
/// Writes take what the host's `check-write` permits and park the task on
/// the stream's pollable when it permits nothing. Flushing waits until the
/// host has taken every byte; closing drops the stream, which the host sees
/// as end of stream.
pub struct StreamWriter {
    key: Key,
    // Declared before `stream`: a pollable must be dropped before its stream.
    pollable: Option<Rc<Pollable>>,
    flushing: bool,
    stream: Option<OutputStream>,
}

impl StreamWriter {
    pub(crate) fn new(stream: OutputStream) -> Self {
        StreamWriter {
            key: Key::fresh(),
            pollable: None,
            flushing: false,
            stream: Some(stream),
        }
    }

    fn park(&mut self, cx: &mut Context<'_>) {
        if let Some(stream) = &self.stream {
            let pollable = self
                .pollable
                .get_or_insert_with(|| Rc::new(stream.subscribe()));
            reactor::register(self.key, Rc::clone(pollable), cx.waker());
        }
    }

    /// How many bytes the host accepts now; `Pending` (parked) when none.
    fn poll_permit(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let Some(stream) = &self.stream else {
            return Poll::Ready(Err(closed()));
        };
        match stream.check_write() {
            Ok(0) => {
                self.park(cx);
                Poll::Pending
            }
            Ok(n) => Poll::Ready(Ok(usize::try_from(n).unwrap_or(usize::MAX))),
            Err(e) => Poll::Ready(Err(stream_error(e))),
        }
    }
}

impl AsyncWrite for StreamWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let permit = match this.poll_permit(cx) {
            Poll::Ready(Ok(n)) => n,
            other => return other,
        };
        let n = permit.min(buf.len());
        let Some(stream) = &this.stream else {
            return Poll::Ready(Err(closed()));
        };
        match stream.write(&buf[..n]) {
            Ok(()) => Poll::Ready(Ok(n)),
            Err(e) => Poll::Ready(Err(stream_error(e))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.flushing {
            let Some(stream) = &this.stream else {
                return Poll::Ready(Err(closed()));
            };
            if let Err(e) = stream.flush() {
                return Poll::Ready(Err(stream_error(e)));
            }
            this.flushing = true;
        }
        // `check-write` permits nothing until the flush has completed.
        match this.poll_permit(cx) {
            Poll::Ready(result) => {
                this.flushing = false;
                Poll::Ready(result.map(drop))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.stream.is_none() {
            return Poll::Ready(Ok(()));
        }
        let flushed = futures::ready!(self.as_mut().poll_flush(cx));
        let this = self.get_mut();
        reactor::deregister(this.key);
        this.pollable = None;
        this.stream = None;
        Poll::Ready(flushed)
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        reactor::deregister(self.key);
        self.pollable = None;
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the host closed the stream")
}

fn stream_error(e: StreamError) -> io::Error {
    match e {
        StreamError::Closed => closed(),
        StreamError::LastOperationFailed(e) => io::Error::other(e.to_debug_string()),
    }
}
