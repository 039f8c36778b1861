//! `UnixFs`: cat, ls and add for cells.

use std::cell::RefCell;
use std::rc::Rc;

use capnp::Error;
use cid::Cid;
use futures::channel::mpsc;
use ww_capnp::ipfs_capnp::{add_writer, unix_fs};
use ww_capnp::system_capnp::byte_stream;

use crate::add_writer::AddWriterImpl;
use crate::blocks::Blocks;
use crate::cat_stream::{CatStream, CHUNKS_AHEAD};
use crate::error::IpfsError;
use crate::importer::{self, Entry};
use crate::pins::Pins;
use crate::{fields, reader};

/// The largest file `cat` returns in one reply (larger: `catStream`).
pub const MAX_CAT: u64 = 64 << 20;

/// Serves `UnixFs` over a node's blocks.
pub struct UnixFsImpl {
    blocks: Blocks,
    pins: Pins,
    announce: Rc<dyn Fn(Cid)>,
}

impl UnixFsImpl {
    /// Reads and adds through `blocks`, pinning what is added in `pins`
    /// (as `ipfs add` pins); `announce` is told each CID added.
    pub fn new(blocks: Blocks, pins: Pins, announce: Rc<dyn Fn(Cid)>) -> Self {
        UnixFsImpl {
            blocks,
            pins,
            announce,
        }
    }
}

impl unix_fs::Server for UnixFsImpl {
    async fn cat(
        self: Rc<Self>,
        params: unix_fs::CatParams,
        mut results: unix_fs::CatResults,
    ) -> Result<(), Error> {
        let path = fields::path(params.get()?.get_path()?)?;
        let (cid, block, size) = reader::open(&self.blocks, &path).await?;
        if size > MAX_CAT {
            return Err(IpfsError::TooLarge {
                path: path.to_string(),
                size,
                limit: MAX_CAT,
            }
            .into());
        }
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(CHUNKS_AHEAD);
        let blocks = self.blocks.clone();
        let collect = async move {
            let mut out = Vec::with_capacity(size as usize);
            while let Some(chunk) = futures::StreamExt::next(&mut rx).await {
                out.extend_from_slice(&chunk);
            }
            out
        };
        let (walked, data) = futures::join!(
            reader::stream_file(&blocks, cid, block, path.root, tx),
            collect
        );
        walked?;
        results.get().set_data(&data);
        Ok(())
    }

    async fn cat_stream(
        self: Rc<Self>,
        params: unix_fs::CatStreamParams,
        mut results: unix_fs::CatStreamResults,
    ) -> Result<(), Error> {
        let path = fields::path(params.get()?.get_path()?)?;
        let (cid, block, _) = reader::open(&self.blocks, &path).await?;
        let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
        let failure = Rc::new(RefCell::new(None));
        let blocks = self.blocks.clone();
        let failed = failure.clone();
        tokio::task::spawn_local(async move {
            if let Err(e) = reader::stream_file(&blocks, cid, block, path.root, tx).await {
                *failed.borrow_mut() = Some(e.to_string());
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
        let entries = reader::ls(&self.blocks, &path).await?;
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
        let cid = importer::add_bytes(&self.blocks.store, params.get_data()?, options)?;
        self.pins.add(&cid)?;
        (self.announce)(cid);
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
        let writer = AddWriterImpl::new(
            &self.blocks.store,
            options,
            self.pins.clone(),
            self.announce.clone(),
        )?;
        let client: add_writer::Client = capnp_rpc::new_client(writer);
        results.get().set_writer(client);
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
        let files = params.get_files()?;
        let mut entries = Vec::with_capacity(files.len() as usize);
        for file in files.iter() {
            let path = fields::text(file.get_path()?, "a file's path")?;
            let entry = if path.ends_with('/') {
                Entry::EmptyDirectory
            } else {
                Entry::File(file.get_data()?)
            };
            entries.push((path, entry));
        }
        let cid = importer::add_directory(&self.blocks.store, &entries, options)?;
        self.pins.add(&cid)?;
        (self.announce)(cid);
        results.get().set_cid(cid.to_string().as_str());
        Ok(())
    }
}
