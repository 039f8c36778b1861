//! `wetware:ipfs/ipfs`: UnixFS files and pins, forwarded to the guarded
//! `Ipfs`, `UnixFs` and `AddWriter` capabilities.

use wasmtime::component::Resource;
use ww_provider_sdk::capnp;
use ww_provider_sdk::ww_capnp::ipfs_capnp::{add_options, add_writer, ipfs, unix_fs};

use super::streams::ByteStream;
use super::wetware::ipfs::ipfs::{
    AddOptions, Entry, File, Host, HostAddWriter, HostIpfs, HostUnixfs,
};
use super::{local, wit, Local, WitCtxView, WitError};

/// The guest's handle on a guarded `Ipfs`.
pub struct Ipfs(pub(crate) Local<ipfs::Client>);

/// The guest's handle on a guarded `UnixFs`.
pub struct Unixfs(Local<unix_fs::Client>);

/// The guest's handle on a guarded `AddWriter`.
pub struct AddWriter(Local<add_writer::Client>);

type Answer<T> = wasmtime::Result<Result<T, WitError>>;

fn set_options(mut builder: add_options::Builder<'_>, options: AddOptions) {
    builder.set_cid_version(options.cid_version);
    builder.set_raw_leaves(options.raw_leaves);
}

impl Host for WitCtxView<'_> {}

impl HostIpfs for WitCtxView<'_> {
    async fn unixfs(&mut self, this: Resource<Ipfs>) -> Answer<Resource<Unixfs>> {
        let cap = (*self.table.get(&this)?.0).clone();
        let api = local(async move {
            let reply = cap.unixfs_request().send().promise.await?;
            Ok::<_, capnp::Error>(Local::new(reply.get()?.get_api()?))
        })
        .await;
        Ok(match wit(api) {
            Ok(api) => Ok(self.table.push(Unixfs(api))?),
            Err(e) => Err(e),
        })
    }

    async fn pin(&mut self, this: Resource<Ipfs>, cid: String) -> Answer<()> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let mut request = cap.pin_request();
            request.get().set_cid(cid.as_str());
            request.send().promise.await?;
            Ok(())
        })
        .await))
    }

    async fn unpin(&mut self, this: Resource<Ipfs>, cid: String) -> Answer<()> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let mut request = cap.unpin_request();
            request.get().set_cid(cid.as_str());
            request.send().promise.await?;
            Ok(())
        })
        .await))
    }

    async fn drop(&mut self, this: Resource<Ipfs>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl HostUnixfs for WitCtxView<'_> {
    async fn cat(&mut self, this: Resource<Unixfs>, path: String) -> Answer<Vec<u8>> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let mut request = cap.cat_request();
            request.get().set_path(path.as_str());
            let reply = request.send().promise.await?;
            Ok(reply.get()?.get_data()?.to_vec())
        })
        .await))
    }

    async fn cat_stream(
        &mut self,
        this: Resource<Unixfs>,
        path: String,
    ) -> Answer<Resource<ByteStream>> {
        let cap = (*self.table.get(&this)?.0).clone();
        let stream = local(async move {
            let mut request = cap.cat_stream_request();
            request.get().set_path(path.as_str());
            let reply = request.send().promise.await?;
            Ok::<_, capnp::Error>(Local::new(reply.get()?.get_stream()?))
        })
        .await;
        Ok(match wit(stream) {
            Ok(stream) => Ok(self.table.push(ByteStream::new(stream.take()))?),
            Err(e) => Err(e),
        })
    }

    async fn ls(&mut self, this: Resource<Unixfs>, path: String) -> Answer<Vec<Entry>> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let mut request = cap.ls_request();
            request.get().set_path(path.as_str());
            let reply = request.send().promise.await?;
            reply
                .get()?
                .get_entries()?
                .iter()
                .map(|e| {
                    Ok(Entry {
                        name: e.get_name()?.to_string()?,
                        cid: e.get_cid()?.to_string()?,
                        size: e.get_size(),
                        is_directory: e.get_is_directory(),
                    })
                })
                .collect()
        })
        .await))
    }

    async fn add(
        &mut self,
        this: Resource<Unixfs>,
        data: Vec<u8>,
        options: AddOptions,
    ) -> Answer<String> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let mut request = cap.add_request();
            request.get().set_data(&data);
            set_options(request.get().init_options(), options);
            let reply = request.send().promise.await?;
            Ok(reply.get()?.get_cid()?.to_string()?)
        })
        .await))
    }

    async fn add_stream(
        &mut self,
        this: Resource<Unixfs>,
        options: AddOptions,
    ) -> Answer<Resource<AddWriter>> {
        let cap = (*self.table.get(&this)?.0).clone();
        let writer = local(async move {
            let mut request = cap.add_stream_request();
            set_options(request.get().init_options(), options);
            let reply = request.send().promise.await?;
            Ok::<_, capnp::Error>(Local::new(reply.get()?.get_writer()?))
        })
        .await;
        Ok(match wit(writer) {
            Ok(writer) => Ok(self.table.push(AddWriter(writer))?),
            Err(e) => Err(e),
        })
    }

    async fn add_directory(
        &mut self,
        this: Resource<Unixfs>,
        files: Vec<File>,
        options: AddOptions,
    ) -> Answer<String> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let mut request = cap.add_directory_request();
            let count = u32::try_from(files.len())
                .map_err(|_| capnp::Error::failed("too many files for one call".into()))?;
            let mut list = request.get().init_files(count);
            for (i, file) in files.iter().enumerate() {
                let mut entry = list.reborrow().get(i as u32);
                entry.set_path(file.path.as_str());
                entry.set_data(&file.data);
            }
            set_options(request.get().init_options(), options);
            let reply = request.send().promise.await?;
            Ok(reply.get()?.get_cid()?.to_string()?)
        })
        .await))
    }

    async fn drop(&mut self, this: Resource<Unixfs>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl HostAddWriter for WitCtxView<'_> {
    async fn write(&mut self, this: Resource<AddWriter>, data: Vec<u8>) -> Answer<()> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let mut request = cap.write_request();
            request.get().set_data(&data);
            request.send().await
        })
        .await))
    }

    async fn finish(&mut self, this: Resource<AddWriter>) -> Answer<String> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let reply = cap.finish_request().send().promise.await?;
            Ok(reply.get()?.get_cid()?.to_string()?)
        })
        .await))
    }

    async fn drop(&mut self, this: Resource<AddWriter>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
