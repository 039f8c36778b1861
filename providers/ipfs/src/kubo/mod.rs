//! The Kubo backend: the same `Ipfs` and `UnixFs` capabilities, served by
//! a Kubo-compatible HTTP RPC API instead of the embedded store.
//!
//! Chosen with `ipfs-url` (`ww run --ipfs-url URL`, env `WW_IPFS`): an
//! operator who already runs Kubo keeps one block store, one set of pins
//! and one peer identity for IPFS, and cells (and `/ipfs/<cid>` image
//! layers) read and write it without knowing. The behaviour follows
//! Kubo's, not the embedded store's, where the two differ: `add` pins
//! (like `ipfs add`), and blocks are collected by Kubo's own GC policy, not
//! by ww.
//!
//! Files move as streams both ways: `catStream` hands the HTTP response
//! body to the cell as it arrives, and `addStream` sends the cell's writes
//! as the body of an `add` that is in flight until `finish`. A writer
//! dropped without `finish` aborts the upload, so Kubo pins nothing.

pub mod api;
pub mod multipart;

use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use capnp::Error;
use cid::Cid;
use futures::channel::mpsc as chunks;
use futures::future::LocalBoxFuture;
use futures::SinkExt;
use reqwest::Body;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use ww_capnp::ipfs_capnp::add_writer;

use crate::backend::{Backend, Reading};
use crate::cat_stream::CHUNKS_AHEAD;
use crate::error::{IpfsError, Result};
use crate::importer::{self, AddOptions};
use crate::path::IpfsPath;
use crate::reader::Entry;
use crate::tree::TreeEntry;
use api::KuboApi;

/// Bytes gathered from the HTTP body before a chunk goes to the cell, so a
/// `read` is not one small TCP segment.
const GATHER: usize = 256 << 10;

/// Writes of an `addStream` that may wait for the upload.
const WRITES_AHEAD: usize = 4;

/// A Kubo RPC API, as a [`Backend`].
pub(crate) struct KuboBackend {
    api: KuboApi,
}

impl KuboBackend {
    /// Calls `api`.
    pub(crate) fn new(api: KuboApi) -> Self {
        KuboBackend { api }
    }
}

impl Backend for KuboBackend {
    async fn read(&self, path: IpfsPath) -> Result<Reading, Error> {
        // Errors before the first byte (no such file) fail the call itself.
        let mut response = self.api.cat(&path).await?;
        let size = response.content_length();
        let (mut tx, chunks) = chunks::channel(CHUNKS_AHEAD);
        let api = self.api.clone();
        let feed: LocalBoxFuture<'static, Result<()>> = Box::pin(async move {
            let mut gathered = Vec::new();
            loop {
                let chunk = api
                    .bounded("cat", &path, async {
                        response.chunk().await.map_err(|e| body_error(&api, e))
                    })
                    .await?;
                let end = chunk.is_none();
                if let Some(chunk) = chunk {
                    gathered.extend_from_slice(&chunk);
                }
                let full = (end && !gathered.is_empty()) || gathered.len() >= GATHER;
                // A failed send: the reader dropped the stream.
                if full && tx.send(std::mem::take(&mut gathered)).await.is_err() {
                    return Ok(());
                }
                if end {
                    return Ok(());
                }
            }
        });
        Ok(Reading { size, chunks, feed })
    }

    async fn ls(&self, path: &IpfsPath) -> Result<Vec<Entry>, Error> {
        Ok(self.api.ls(path).await?)
    }

    async fn add(&self, data: &[u8], options: AddOptions) -> Result<Cid, Error> {
        let form = multipart::bytes(data.to_vec());
        Ok(self.api.add_form(form, options, multipart::FILE).await?)
    }

    fn add_stream(&self, options: AddOptions) -> Result<add_writer::Client, Error> {
        Ok(capnp_rpc::new_client(KuboAddWriter::start(
            self.api.clone(),
            options,
        )))
    }

    async fn add_directory(
        &self,
        files: &[TreeEntry<'_>],
        options: AddOptions,
    ) -> Result<Cid, Error> {
        // The embedded importer's path rules, so both backends refuse the
        // same trees.
        for (path, _) in files {
            importer::clean_path(path)?;
        }
        if files.is_empty() {
            return Err(IpfsError::BadAdd("the directory has no entries".into()).into());
        }
        let form = multipart::directory(files);
        Ok(self.api.add_form(form, options, multipart::ROOT).await?)
    }

    async fn pin(&self, cid: &Cid) -> Result<(), Error> {
        Ok(self.api.pin(cid).await?)
    }

    async fn unpin(&self, cid: &Cid) -> Result<(), Error> {
        Ok(self.api.unpin(cid).await?)
    }
}

fn body_error(api: &KuboApi, e: reqwest::Error) -> IpfsError {
    IpfsError::Api {
        url: api.url().to_string(),
        call: "cat",
        message: format!("the file's bytes stopped arriving: {e}"),
    }
}

/// What an `addStream` writer sends the upload.
enum Write {
    /// More of the file.
    Data(Bytes),
    /// The file is whole (`finish`).
    End,
}

/// The file's bytes as the body of its part: the cell's writes until
/// [`Write::End`]. A writer gone without it fails the body, so the request
/// breaks off and the daemon adds (and pins) nothing.
fn writes(rx: mpsc::Receiver<Write>) -> Body {
    let chunks = futures::stream::unfold(Some(rx), |rx| async move {
        let mut rx = rx?;
        match rx.recv().await {
            Some(Write::Data(data)) => Some((Ok(data), Some(rx))),
            Some(Write::End) => None,
            None => Some((
                Err(std::io::Error::other(
                    "the writer was dropped before finish",
                )),
                None,
            )),
        }
    });
    Body::wrap_stream(chunks)
}

/// An `add` in flight: the cell's writes go to its body.
struct Upload {
    writes: Option<mpsc::Sender<Write>>,
    task: Option<JoinHandle<Result<Cid>>>,
}

impl Drop for Upload {
    fn drop(&mut self) {
        // Not finished: abort, so the daemon sees a broken upload.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Serves `AddWriter` over an `add` call in flight.
pub struct KuboAddWriter {
    upload: RefCell<Option<Upload>>,
}

impl KuboAddWriter {
    /// Starts the `add`; its file part is what the cell writes.
    fn start(api: KuboApi, options: AddOptions) -> Self {
        let (tx, rx) = mpsc::channel(WRITES_AHEAD);
        let form = multipart::stream(writes(rx));
        let add = async move { api.add_form(form, options, multipart::FILE).await };
        let task = tokio::task::spawn_local(add);
        KuboAddWriter {
            upload: RefCell::new(Some(Upload {
                writes: Some(tx),
                task: Some(task),
            })),
        }
    }

    /// The upload's own error, once it ended early.
    async fn failure(&self) -> Error {
        let task = self
            .upload
            .borrow_mut()
            .take()
            .and_then(|mut u| u.task.take());
        match task {
            Some(task) => match task.await {
                Ok(Err(e)) => e.into(),
                Ok(Ok(_)) => Error::failed("the daemon answered before the file ended".into()),
                Err(e) => Error::failed(format!("the upload task ended: {e}")),
            },
            None => finished(),
        }
    }
}

fn finished() -> Error {
    Error::failed("this add is finished (or failed); start another with UnixFs.addStream".into())
}

impl add_writer::Server for KuboAddWriter {
    async fn write(self: Rc<Self>, params: add_writer::WriteParams) -> Result<(), Error> {
        let data = Bytes::copy_from_slice(params.get()?.get_data()?);
        let writes = self
            .upload
            .borrow()
            .as_ref()
            .and_then(|u| u.writes.clone())
            .ok_or_else(finished)?;
        // tokio's bounded channel serves senders in order: writes keep theirs.
        if writes.send(Write::Data(data)).await.is_err() {
            return Err(self.failure().await);
        }
        Ok(())
    }

    async fn finish(
        self: Rc<Self>,
        _: add_writer::FinishParams,
        mut results: add_writer::FinishResults,
    ) -> Result<(), Error> {
        let writes = self
            .upload
            .borrow_mut()
            .as_mut()
            .and_then(|u| u.writes.take())
            .ok_or_else(finished)?;
        // After the writes before it (the channel keeps senders in order).
        if writes.send(Write::End).await.is_err() {
            return Err(self.failure().await);
        }
        let task = self
            .upload
            .borrow_mut()
            .take()
            .and_then(|mut u| u.task.take())
            .ok_or_else(finished)?;
        let cid = task
            .await
            .map_err(|e| Error::failed(format!("the upload task ended: {e}")))??;
        results.get().set_cid(cid.to_string().as_str());
        Ok(())
    }
}
