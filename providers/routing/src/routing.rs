//! `Routing`: CIDs in, the host's DHT underneath.

use std::rc::Rc;

use capnp::Error;
use ww_capnp::dht_capnp::dht;
use ww_capnp::routing_capnp::routing;

use crate::key;

/// Serves `Routing` over the host's `Dht`.
pub struct RoutingImpl {
    dht: dht::Client,
}

impl RoutingImpl {
    /// Routes through `dht`.
    pub fn new(dht: dht::Client) -> Self {
        RoutingImpl { dht }
    }
}

fn text(reader: capnp::text::Reader<'_>) -> Result<String, Error> {
    reader
        .to_string()
        .map_err(|e| Error::failed(format!("the text is not UTF-8: {e}")))
}

impl routing::Server for RoutingImpl {
    async fn provide(
        self: Rc<Self>,
        params: routing::ProvideParams,
        _: routing::ProvideResults,
    ) -> Result<(), Error> {
        let key = key::dht_key(&text(params.get()?.get_key()?)?)?;
        let mut request = self.dht.provide_request();
        request.get().set_key(&key);
        request.send().promise.await?;
        Ok(())
    }

    async fn find_providers(
        self: Rc<Self>,
        params: routing::FindProvidersParams,
        _: routing::FindProvidersResults,
    ) -> Result<(), Error> {
        let params = params.get()?;
        let key = key::dht_key(&text(params.get_key()?)?)?;
        let mut request = self.dht.find_providers_request();
        request.get().set_key(&key);
        request.get().set_count(params.get_count());
        request.get().set_sink(params.get_sink()?);
        request.send().promise.await?;
        Ok(())
    }

    async fn hash(
        self: Rc<Self>,
        params: routing::HashParams,
        mut results: routing::HashResults,
    ) -> Result<(), Error> {
        let data = params.get()?.get_data()?;
        results.get().set_key(key::hash(data).as_str());
        Ok(())
    }

    async fn resolve(
        self: Rc<Self>,
        params: routing::ResolveParams,
        mut results: routing::ResolveResults,
    ) -> Result<(), Error> {
        let path = key::resolve(&text(params.get()?.get_name()?)?)?;
        results.get().set_path(path.as_str());
        Ok(())
    }
}
