//! `ByteStream` over one end of a pipe: a child's stdin (write-only from the
//! parent's side) or its stdout/stderr (read-only). The pipe is in-process
//! for a Wasm child, an OS pipe for a native one.

use std::rc::Rc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;
use ww_provider_sdk::capnp;
use ww_provider_sdk::ww_capnp::system_capnp::byte_stream;

/// Largest read a caller can ask for in one call.
const MAX_READ: u32 = 1 << 20;

/// One direction of a pipe, served as a `ByteStream`.
pub struct StreamServer {
    reader: Option<Mutex<Box<dyn AsyncRead + Unpin>>>,
    writer: Option<Mutex<Option<Box<dyn AsyncWrite + Unpin>>>>,
    what: &'static str,
}

impl StreamServer {
    /// A stream the caller reads from (the child writes the other end).
    pub fn reading(
        end: impl AsyncRead + Unpin + 'static,
        what: &'static str,
    ) -> byte_stream::Client {
        capnp_rpc::new_client(StreamServer {
            reader: Some(Mutex::new(Box::new(end))),
            writer: None,
            what,
        })
    }

    /// A stream the caller writes to (the child reads the other end).
    pub fn writing(
        end: impl AsyncWrite + Unpin + 'static,
        what: &'static str,
    ) -> byte_stream::Client {
        capnp_rpc::new_client(StreamServer {
            reader: None,
            writer: Some(Mutex::new(Some(Box::new(end)))),
            what,
        })
    }
}

fn failed(e: impl std::fmt::Display) -> capnp::Error {
    capnp::Error::failed(e.to_string())
}

impl byte_stream::Server for StreamServer {
    async fn write(self: Rc<Self>, params: byte_stream::WriteParams) -> Result<(), capnp::Error> {
        let data = params.get()?.get_data()?;
        let writer = self
            .writer
            .as_ref()
            .ok_or_else(|| failed(format!("{} is read-only: read from it instead", self.what)))?;
        let mut writer = writer.lock().await;
        let writer = writer.as_mut().ok_or_else(|| {
            failed(format!(
                "{} was closed; nothing more can be written",
                self.what
            ))
        })?;
        writer
            .write_all(data)
            .await
            .map_err(|e| failed(format!("writing {}: the child is gone ({e})", self.what)))
    }

    async fn read(
        self: Rc<Self>,
        params: byte_stream::ReadParams,
        mut results: byte_stream::ReadResults,
    ) -> Result<(), capnp::Error> {
        let max = params.get()?.get_max().clamp(1, MAX_READ) as usize;
        let reader = self
            .reader
            .as_ref()
            .ok_or_else(|| failed(format!("{} is write-only: write to it instead", self.what)))?;
        let mut buf = vec![0; max];
        let n = reader
            .lock()
            .await
            .read(&mut buf)
            .await
            .map_err(|e| failed(format!("reading {}: {e}", self.what)))?;
        results.get().set_data(&buf[..n]);
        Ok(())
    }

    async fn close(
        self: Rc<Self>,
        _: byte_stream::CloseParams,
        _: byte_stream::CloseResults,
    ) -> Result<(), capnp::Error> {
        if let Some(writer) = &self.writer {
            if let Some(mut w) = writer.lock().await.take() {
                // The child sees end of input; a child already gone is fine.
                let _ = w.shutdown().await;
            }
        }
        Ok(())
    }
}
