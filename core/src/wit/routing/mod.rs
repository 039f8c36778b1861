//! `wetware:routing/routing`: content routing, forwarded to the guarded
//! `Routing` capability. `find-providers` hands the provider a
//! `ProviderSink` that collects what it finds, and returns the list.

use std::cell::RefCell;
use std::rc::Rc;

use wasmtime::component::Resource;
use ww_provider_sdk::capnp;
use ww_provider_sdk::ww_capnp::routing_capnp::{provider_sink, routing};

use super::wetware::routing::routing::{Host, HostRouting, Provider};
use super::{local, wit, Local, WitCtxView, WitError};

/// The guest's handle on a guarded `Routing`.
pub struct Routing(pub(crate) Local<routing::Client>);

type Answer<T> = wasmtime::Result<Result<T, WitError>>;

/// Collects the providers a search streams in.
struct Collect(Rc<RefCell<Vec<Provider>>>);

impl provider_sink::Server for Collect {
    async fn found(self: Rc<Self>, params: provider_sink::FoundParams) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let addrs = params
            .get_addrs()?
            .iter()
            .map(|a| Ok(a?.to_string()?))
            .collect::<capnp::Result<Vec<_>>>()?;
        self.0.borrow_mut().push(Provider {
            peer: params.get_peer()?.to_string()?,
            addrs,
        });
        Ok(())
    }
}

impl Host for WitCtxView<'_> {}

impl HostRouting for WitCtxView<'_> {
    async fn provide(&mut self, this: Resource<Routing>, key: String) -> Answer<()> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let mut request = cap.provide_request();
            request.get().set_key(key.as_str());
            request.send().promise.await?;
            Ok(())
        })
        .await))
    }

    async fn find_providers(
        &mut self,
        this: Resource<Routing>,
        key: String,
        count: u32,
    ) -> Answer<Vec<Provider>> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let found = Rc::new(RefCell::new(Vec::new()));
            let mut request = cap.find_providers_request();
            request.get().set_key(key.as_str());
            request.get().set_count(count);
            request
                .get()
                .set_sink(capnp_rpc::new_client(Collect(found.clone())));
            request.send().promise.await?;
            let found = found.take();
            Ok(found)
        })
        .await))
    }

    async fn hash(&mut self, this: Resource<Routing>, data: Vec<u8>) -> Answer<String> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let mut request = cap.hash_request();
            request.get().set_data(&data);
            let reply = request.send().promise.await?;
            Ok(reply.get()?.get_key()?.to_string()?)
        })
        .await))
    }

    async fn resolve(&mut self, this: Resource<Routing>, name: String) -> Answer<String> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let mut request = cap.resolve_request();
            request.get().set_name(name.as_str());
            let reply = request.send().promise.await?;
            Ok(reply.get()?.get_path()?.to_string()?)
        })
        .await))
    }

    async fn drop(&mut self, this: Resource<Routing>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
