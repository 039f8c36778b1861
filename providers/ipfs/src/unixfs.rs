//! `UnixFs`: cat, ls and add for cells, over either backend.

use std::cell::RefCell;
use std::rc::Rc;

use capnp::Error;
use futures::StreamExt;
use ww_capnp::ipfs_capnp::unix_fs;
use ww_capnp::system_capnp::byte_stream;

use crate::backend::{Backend, Reading};
use crate::cat_stream::CatStream;
use crate::error::IpfsError;
use crate::fields;
use crate::path::IpfsPath;

/// The largest file `cat` returns in one reply (larger: `catStream`).
pub const MAX_CAT: u64 = 64 << 20;

/// Serves `UnixFs` over a [`Backend`].
pub(crate) struct UnixFsImpl<B> {
    backend: Rc<B>,
}

impl<B> UnixFsImpl<B> {
    /// Reads and adds through `backend`.
    pub(crate) fn new(backend: Rc<B>) -> Self {
        UnixFsImpl { backend }
    }
}

/// Gathers a whole file for `cat`, refusing one larger than [`MAX_CAT`]
/// (whether or not the store knew its size beforehand).
async fn gather(path: &IpfsPath, reading: Reading) -> Result<Vec<u8>, Error> {
    let too_large = |size| IpfsError::TooLarge {
        path: path.to_string(),
        size,
        limit: MAX_CAT,
    };
    if let Some(size) = reading.size.filter(|s| *s > MAX_CAT) {
        return Err(too_large(size).into());
    }
    let Reading {
        size,
        mut chunks,
        feed,
    } = reading;
    let collect = async move {
        let mut out = Vec::with_capacity(size.unwrap_or(0) as usize);
        while let Some(chunk) = chunks.next().await {
            out.extend_from_slice(&chunk);
            if out.len() as u64 > MAX_CAT {
                // Dropping `chunks` ends the feed.
                return Err(too_large(out.len() as u64));
            }
        }
        Ok(out)
    };
    let (fed, data) = futures::join!(feed, collect);
    let data = data?;
    fed?;
    Ok(data)
}

impl<B: Backend> unix_fs::Server for UnixFsImpl<B> {
    async fn cat(
        self: Rc<Self>,
        params: unix_fs::CatParams,
        mut results: unix_fs::CatResults,
    ) -> Result<(), Error> {
        let path = fields::path(params.get()?.get_path()?)?;
        let reading = self.backend.read(path.clone()).await?;
        let data = gather(&path, reading).await?;
        results.get().set_data(&data);
        Ok(())
    }

    async fn cat_stream(
        self: Rc<Self>,
        params: unix_fs::CatStreamParams,
        mut results: unix_fs::CatStreamResults,
    ) -> Result<(), Error> {
        let path = fields::path(params.get()?.get_path()?)?;
        let Reading { chunks, feed, .. } = self.backend.read(path).await?;
        let failure = Rc::new(RefCell::new(None));
        let failed = failure.clone();
        tokio::task::spawn_local(async move {
            if let Err(e) = feed.await {
                *failed.borrow_mut() = Some(e.to_string());
            }
        });
        let stream: byte_stream::Client = capnp_rpc::new_client(CatStream::new(chunks, failure));
        results.get().set_stream(stream);
        Ok(())
    }

    async fn ls(
        self: Rc<Self>,
        params: unix_fs::LsParams,
        results: unix_fs::LsResults,
    ) -> Result<(), Error> {
        let path = fields::path(params.get()?.get_path()?)?;
        let entries = self.backend.ls(&path).await?;
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
        let cid = self.backend.add(params.get_data()?, options).await?;
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
        results.get().set_writer(self.backend.add_stream(options)?);
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
            // A path ending in `/` is an empty directory.
            let data = if path.ends_with('/') {
                None
            } else {
                Some(file.get_data()?)
            };
            files.push((path, data));
        }
        let cid = self.backend.add_directory(&files, options).await?;
        results.get().set_cid(cid.to_string().as_str());
        Ok(())
    }
}
