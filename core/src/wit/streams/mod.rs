//! `wetware:types/streams`: byte streams (a libp2p stream, a child's
//! stdio), forwarded to the guarded `ByteStream` capability.

use wasmtime::component::Resource;
use ww_provider_sdk::ww_capnp::system_capnp::byte_stream;

use super::wetware::types::streams::{Host, HostByteStream};
use super::{local, wit, Local, WitCtxView, WitError};

/// The guest's handle on a guarded `ByteStream`.
pub struct ByteStream(Local<byte_stream::Client>);

impl ByteStream {
    /// Holds `cap` for the guest.
    pub(crate) fn new(cap: byte_stream::Client) -> ByteStream {
        ByteStream(Local::new(cap))
    }
}

type Answer<T> = wasmtime::Result<Result<T, WitError>>;

impl Host for WitCtxView<'_> {}

impl HostByteStream for WitCtxView<'_> {
    async fn write(&mut self, this: Resource<ByteStream>, data: Vec<u8>) -> Answer<()> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let mut request = cap.write_request();
            request.get().set_data(&data);
            request.send().await
        })
        .await))
    }

    async fn read(&mut self, this: Resource<ByteStream>, max: u32) -> Answer<Vec<u8>> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let mut request = cap.read_request();
            request.get().set_max(max);
            let reply = request.send().promise.await?;
            Ok(reply.get()?.get_data()?.to_vec())
        })
        .await))
    }

    async fn close(&mut self, this: Resource<ByteStream>) -> Answer<()> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            cap.close_request().send().promise.await?;
            Ok(())
        })
        .await))
    }

    async fn drop(&mut self, this: Resource<ByteStream>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
