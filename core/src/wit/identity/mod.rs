//! `wetware:identity/identity`: signing with the node key, forwarded to the
//! guarded `Identity` and `Signer` capabilities.

use wasmtime::component::Resource;
use ww_provider_sdk::capnp;
use ww_provider_sdk::ww_capnp::identity_capnp::{identity, signer};

use super::wetware::identity::identity::{Host, HostIdentity, HostSigner};
use ww_provider_sdk::direct::{self, Direct};
use ww_provider_sdk::Export;

use super::{client, local, wit, Guarded, Local, WitCtxView, WitError};
use crate::epoch::EpochGuard;

/// The guest's handle on a guarded `Identity`, and on the object serving
/// it when that is in this process (for the calls that skip Cap'n Proto).
pub struct Identity {
    cap: Local<identity::Client>,
    direct: Option<Local<Guarded<dyn direct::Identity>>>,
}

impl Identity {
    /// Holds `export`'s capability, granted under `guard`.
    pub(crate) fn new(export: &Export, guard: &EpochGuard) -> Identity {
        let direct = match export.direct() {
            Some(Direct::Identity(server)) => Some(Guarded::new(server.clone(), guard)),
            _ => None,
        };
        Identity {
            cap: Local::new(client(export)),
            direct,
        }
    }
}

/// The guest's handle on a guarded `Signer`.
pub struct Signer(Local<signer::Client>);

type Answer<T> = wasmtime::Result<Result<T, WitError>>;

impl Host for WitCtxView<'_> {}

impl HostIdentity for WitCtxView<'_> {
    async fn public_key(&mut self, this: Resource<Identity>) -> Answer<Vec<u8>> {
        let identity = self.table.get(&this)?;
        if let Some(direct) = &identity.direct {
            return Ok(direct.admit().and_then(|id| wit(id.public_key())));
        }
        let cap = (*identity.cap).clone();
        Ok(wit(local(async move {
            let reply = cap.public_key_request().send().promise.await?;
            Ok(reply.get()?.get_key()?.to_vec())
        })
        .await))
    }

    async fn signer(
        &mut self,
        this: Resource<Identity>,
        domain: String,
    ) -> Answer<Resource<Signer>> {
        let cap = (*self.table.get(&this)?.cap).clone();
        let signer = local(async move {
            let mut request = cap.signer_request();
            request.get().set_domain(domain.as_str());
            let reply = request.send().promise.await?;
            Ok::<_, capnp::Error>(Local::new(reply.get()?.get_signer()?))
        })
        .await;
        Ok(match wit(signer) {
            Ok(signer) => Ok(self.table.push(Signer(signer))?),
            Err(e) => Err(e),
        })
    }

    async fn verify(
        &mut self,
        this: Resource<Identity>,
        data: Vec<u8>,
        signature: Vec<u8>,
        public_key: Vec<u8>,
    ) -> Answer<bool> {
        let cap = (*self.table.get(&this)?.cap).clone();
        Ok(wit(local(async move {
            let mut request = cap.verify_request();
            let mut params = request.get();
            params.set_data(&data);
            params.set_signature(&signature);
            params.set_public_key(&public_key);
            let reply = request.send().promise.await?;
            Ok(reply.get()?.get_valid())
        })
        .await))
    }

    async fn drop(&mut self, this: Resource<Identity>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl HostSigner for WitCtxView<'_> {
    async fn sign(
        &mut self,
        this: Resource<Signer>,
        nonce: Vec<u8>,
        epoch_seq: u64,
    ) -> Answer<Vec<u8>> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let mut request = cap.sign_request();
            request.get().set_nonce(&nonce);
            request.get().set_epoch_seq(epoch_seq);
            let reply = request.send().promise.await?;
            Ok(reply.get()?.get_signature()?.to_vec())
        })
        .await))
    }

    async fn public_key(&mut self, this: Resource<Signer>) -> Answer<Vec<u8>> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let reply = cap.public_key_request().send().promise.await?;
            Ok(reply.get()?.get_key()?.to_vec())
        })
        .await))
    }

    async fn domain(&mut self, this: Resource<Signer>) -> Answer<String> {
        let cap = (*self.table.get(&this)?.0).clone();
        Ok(wit(local(async move {
            let reply = cap.domain_request().send().promise.await?;
            Ok(reply.get()?.get_domain()?.to_string()?)
        })
        .await))
    }

    async fn drop(&mut self, this: Resource<Signer>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
