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
use futures::SinkExt;
use reqwest::Body;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use ww_capnp::ipfs_capnp::{add_writer, ipfs, unix_fs};
use ww_capnp::system_capnp::byte_stream;

use crate::cat_stream::{CatStream, CHUNKS_AHEAD};
use crate::error::{IpfsError, Result};
use crate::fields;
use crate::importer::AddOptions;
use crate::unixfs::MAX_CAT;
use api::KuboApi;

/// Bytes gathered from the HTTP body before a chunk goes to the cell, so a
/// `read` is not one small TCP segment.
const GATHER: usize = 256 << 10;

/// Writes of an `addStream` that may wait for the upload.
const WRITES_AHEAD: usize = 4;

/// Serves `Ipfs` through a Kubo RPC API.
pub struct KuboIpfs {
    api: KuboApi,
    unixfs: unix_fs::Client,
}

impl KuboIpfs {
    /// Calls `api`.
    pub fn new(api: KuboApi) -> Self {
        let unixfs = capnp_rpc::new_client(KuboUnixFs { api: api.clone() });
        KuboIpfs { api, unixfs }
    }
}

impl ipfs::Server for KuboIpfs {
    async fn unixfs(
        self: Rc<Self>,
        _: ipfs::UnixfsParams,
        mut results: ipfs::UnixfsResults,
    ) -> Result<(), Error> {
        results.get().set_api(self.unixfs.clone());
        Ok(())
    }

    async fn pin(
        self: Rc<Self>,
        params: ipfs::PinParams,
        _: ipfs::PinResults,
    ) -> Result<(), Error> {
        let cid = fields::cid(params.get()?.get_cid()?)?;
        Ok(self.api.pin(&cid).await?)
    }

    async fn unpin(
        self: Rc<Self>,
        params: ipfs::UnpinParams,
        _: ipfs::UnpinResults,
    ) -> Result<(), Error> {
        let cid = fields::cid(params.get()?.get_cid()?)?;
        Ok(self.api.unpin(&cid).await?)
    }
}

/// Serves `UnixFs` through a Kubo RPC API.
pub struct KuboUnixFs {
    api: KuboApi,
}

impl unix_fs::Server for KuboUnixFs {
    async fn cat(
        self: Rc<Self>,
        params: unix_fs::CatParams,
        mut results: unix_fs::CatResults,
    ) -> Result<(), Error> {
        let path = fields::path(params.get()?.get_path()?)?;
        let mut response = self.api.cat(&path).await?;
        let too_large = |size| IpfsError::TooLarge {
            path: path.to_string(),
            size,
            limit: MAX_CAT,
        };
        if let Some(size) = response.content_length().filter(|s| *s > MAX_CAT) {
            return Err(too_large(size).into());
        }
        let mut data = Vec::new();
        let api = &self.api;
        while let Some(chunk) = api
            .bounded("cat", &path, async {
                response.chunk().await.map_err(|e| body_error(api, e))
            })
            .await?
        {
            data.extend_from_slice(&chunk);
            if data.len() as u64 > MAX_CAT {
                return Err(too_large(data.len() as u64).into());
            }
        }
        results.get().set_data(&data);
        Ok(())
    }

    async fn cat_stream(
        self: Rc<Self>,
        params: unix_fs::CatStreamParams,
        mut results: unix_fs::CatStreamResults,
    ) -> Result<(), Error> {
        let path = fields::path(params.get()?.get_path()?)?;
        // Errors before the first byte (no such file) fail the call itself.
        let mut response = self.api.cat(&path).await?;
        let (mut tx, rx) = chunks::channel(CHUNKS_AHEAD);
        let failure = Rc::new(RefCell::new(None));
        let failed = failure.clone();
        let api = self.api.clone();
        tokio::task::spawn_local(async move {
            let mut gathered = Vec::new();
            loop {
                let next = api.bounded("cat", &path, async {
                    response.chunk().await.map_err(|e| body_error(&api, e))
                });
                let chunk = match next.await {
                    Ok(chunk) => chunk,
                    Err(e) => {
                        *failed.borrow_mut() = Some(e.to_string());
                        return;
                    }
                };
                let end = chunk.is_none();
                if let Some(chunk) = chunk {
                    gathered.extend_from_slice(&chunk);
                }
                let full = (end && !gathered.is_empty()) || gathered.len() >= GATHER;
                // A failed send: the cell dropped the stream.
                if full && tx.send(std::mem::take(&mut gathered)).await.is_err() {
                    return;
                }
                if end {
                    return;
                }
            }
        });
        let stream: byte_stream::Client = capnp_rpc::new_client(CatStream::new(rx, failure));
        results.get().set_stream(stream);
        Ok(())
    }

    async fn ls(
        self: Rc<Self>,
        params: unix_fs::LsParams,
        results: unix_fs::LsResults,
    ) -> Result<(), Error> {
        let path = fields::path(params.get()?.get_path()?)?;
        let entries = self.api.ls(&path).await?;
        fields::set_entries(results, &entries);
        Ok(())
    }

    async fn add(
        self: Rc<Self>,
        params: unix_fs::AddParams,
        mut results: unix_fs::AddResults,
    ) -> Result<(), Error> {
        let params = params.get()?;
        let options = fields::add_options(
            params
                .has_options()
                .then(|| params.get_options())
                .transpose()?,
        )?;
        let form = multipart::bytes(params.get_data()?.to_vec());
        let cid = self.api.add_form(form, options, multipart::FILE).await?;
        results.get().set_cid(cid.to_string().as_str());
        Ok(())
    }

    async fn add_stream(
        self: Rc<Self>,
        params: unix_fs::AddStreamParams,
        mut results: unix_fs::AddStreamResults,
    ) -> Result<(), Error> {
        let params = params.get()?;
        let options = fields::add_options(
            params
                .has_options()
                .then(|| params.get_options())
                .transpose()?,
        )?;
        let writer: add_writer::Client =
            capnp_rpc::new_client(KuboAddWriter::start(self.api.clone(), options));
        results.get().set_writer(writer);
        Ok(())
    }

    async fn add_directory(
        self: Rc<Self>,
        params: unix_fs::AddDirectoryParams,
        mut results: unix_fs::AddDirectoryResults,
    ) -> Result<(), Error> {
        let params = params.get()?;
        let options = fields::add_options(
            params
                .has_options()
                .then(|| params.get_options())
                .transpose()?,
        )?;
        let list = params.get_files()?;
        let mut files = Vec::with_capacity(list.len() as usize);
        for file in list.iter() {
            let path = fields::text(file.get_path()?, "a file's path")?;
            check_path(&path)?;
            let data = if path.ends_with('/') {
                None
            } else {
                Some(file.get_data()?)
            };
            files.push((path, data));
        }
        if files.is_empty() {
            return Err(IpfsError::BadAdd("the directory has no entries".into()).into());
        }
        let form = multipart::directory(&files);
        let cid = self.api.add_form(form, options, multipart::ROOT).await?;
        results.get().set_cid(cid.to_string().as_str());
        Ok(())
    }
}

/// The same path rules as the embedded importer, so both backends refuse
/// the same trees.
fn check_path(path: &str) -> Result<()> {
    let bad = |why: &str| IpfsError::BadAdd(format!("path `{path}` {why}"));
    if path.starts_with('/') {
        return Err(bad(
            "is absolute; give paths relative to the directory's root",
        ));
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err(bad("is empty"));
    }
    if parts.iter().any(|p| *p == "." || *p == "..") {
        return Err(bad("contains `.` or `..`"));
    }
    Ok(())
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
