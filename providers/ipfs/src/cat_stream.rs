//! `ByteStream` over a file being read: the reader task sends chunks into
//! a bounded channel, and `read` hands them out.

use std::cell::RefCell;
use std::rc::Rc;

use capnp::Error;
use futures::channel::mpsc;
use futures::lock::Mutex;
use futures::StreamExt;
use ww_capnp::system_capnp::byte_stream;

/// Most bytes one `read` returns.
pub const MAX_READ: usize = 1 << 20;

/// Chunks that may wait between the reader task and the cell.
pub const CHUNKS_AHEAD: usize = 8;

/// Serves the read side of a file stream; writes are refused.
pub struct CatStream {
    chunks: Mutex<mpsc::Receiver<Vec<u8>>>,
    /// The rest of a chunk a smaller `read` left over.
    left: RefCell<Vec<u8>>,
    /// Why the reader task stopped early, once it did.
    failure: Rc<RefCell<Option<String>>>,
}

impl CatStream {
    /// Reads `chunks` until they end; `failure` says why, if they end early.
    pub fn new(chunks: mpsc::Receiver<Vec<u8>>, failure: Rc<RefCell<Option<String>>>) -> Self {
        CatStream {
            chunks: Mutex::new(chunks),
            left: RefCell::default(),
            failure,
        }
    }
}

impl byte_stream::Server for CatStream {
    async fn write(self: Rc<Self>, _: byte_stream::WriteParams) -> Result<(), Error> {
        Err(Error::failed(
            "this stream reads a file from IPFS; it cannot be written (use UnixFs.addStream)"
                .into(),
        ))
    }

    async fn read(
        self: Rc<Self>,
        params: byte_stream::ReadParams,
        mut results: byte_stream::ReadResults,
    ) -> Result<(), Error> {
        let max = (params.get()?.get_max() as usize).min(MAX_READ);
        if max == 0 {
            return Err(Error::failed(
                "read(max = 0) would look like end of stream; ask for at least one byte".into(),
            ));
        }
        let mut chunks = self.chunks.lock().await;
        if self.left.borrow().is_empty() {
            match chunks.next().await {
                Some(chunk) => *self.left.borrow_mut() = chunk,
                None => {
                    if let Some(e) = self.failure.borrow().clone() {
                        return Err(Error::failed(e));
                    }
                }
            }
        }
        let mut left = self.left.borrow_mut();
        let n = max.min(left.len());
        results.get().set_data(&left[..n]);
        left.drain(..n);
        Ok(())
    }

    async fn close(
        self: Rc<Self>,
        _: byte_stream::CloseParams,
        _: byte_stream::CloseResults,
    ) -> Result<(), Error> {
        Ok(())
    }
}
