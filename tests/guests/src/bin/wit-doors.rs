//! One membrane, two doors: the same calls through the RPC vat and through
//! typed WIT imports return the same results. Prints `same <call>` or
//! `differ <call>: vat=… wit=…` per call, then `compared N`.

use std::fmt::Debug;
use std::process::ExitCode;

use ww_capnp::identity_capnp::identity;
use ww_capnp::ipfs_capnp::ipfs;
use ww_capnp::routing_capnp::routing;
use ww_capnp::system_capnp::{executor, host};
use ww_guest::wit;
use ww_test_guests::public_key;

/// Prints whether the two doors agree on `call`; returns whether they do.
fn compare<T: PartialEq + Debug>(call: &str, vat: T, wit: T) -> bool {
    if vat == wit {
        println!("same {call}");
        true
    } else {
        println!("differ {call}: vat={vat:?} wit={wit:?}");
        false
    }
}

fn main() -> ExitCode {
    ww_guest::run(|membrane| async move {
        let caps = ww_guest::graft(&membrane).await?;
        let typed = wit::graft()?;
        let mut same = Vec::new();
        same.push(compare("graft.epoch", caps.epoch(), typed.epoch.seq));
        let names: Vec<String> = caps.names().iter().map(|n| n.to_string()).collect();
        same.push(compare("graft.names", names, typed.names.clone()));

        let identity: identity::Client = caps.get("identity")?;
        let wit_identity = typed.identity.ok_or("WIT granted no identity")?;
        let key = public_key(&identity).await?;
        same.push(compare(
            "identity.public-key",
            key.clone(),
            wit_identity.public_key()?,
        ));

        // Ed25519 signatures are deterministic: both doors sign alike.
        let nonce = [7u8; 32];
        let mut request = identity.signer_request();
        request.get().set_domain("two-doors");
        let signer = request.send().pipeline.get_signer();
        let mut request = signer.sign_request();
        request.get().set_nonce(&nonce);
        request.get().set_epoch_seq(caps.epoch());
        let reply = request.send().promise.await?;
        let vat_signature = reply.get()?.get_signature()?.to_vec();
        let wit_signer = wit_identity.signer("two-doors")?;
        let wit_signature = wit_signer.sign(&nonce, typed.epoch.seq)?;
        same.push(compare("signer.sign", vat_signature.clone(), wit_signature));
        same.push(compare(
            "signer.domain",
            "two-doors".to_string(),
            wit_signer.domain()?,
        ));

        let mut signed = b"two-doors".to_vec();
        signed.push(0);
        signed.extend_from_slice(&nonce);
        signed.extend_from_slice(&typed.epoch.seq.to_be_bytes());
        let mut request = identity.verify_request();
        request.get().set_data(&signed);
        request.get().set_signature(&vat_signature);
        request.get().set_public_key(&key);
        let valid = request.send().promise.await?.get()?.get_valid();
        same.push(compare(
            "identity.verify",
            valid,
            wit_identity.verify(&signed, &vat_signature, &key)?,
        ));

        let host: host::Client = caps.get("host")?;
        let wit_host = typed.host.ok_or("WIT granted no host")?;
        let reply = host.id_request().send().promise.await?;
        let id = reply.get()?.get_peer_id()?.to_string()?;
        same.push(compare("host.id", id, wit_host.id()?));

        let executor: executor::Client = caps.get("executor")?;
        let wit_executor = typed.executor.ok_or("WIT granted no executor")?;
        let mut request = executor.echo_request();
        request.get().set_message("through both doors");
        let reply = request.send().promise.await?;
        let echoed = reply.get()?.get_response()?.to_string()?;
        same.push(compare(
            "executor.echo",
            echoed,
            wit_executor.echo("through both doors")?,
        ));

        let routing: routing::Client = caps.get("routing")?;
        let wit_routing = typed.routing.ok_or("WIT granted no routing")?;
        let mut request = routing.hash_request();
        request.get().set_data(b"hello world\n");
        let reply = request.send().promise.await?;
        let cid = reply.get()?.get_key()?.to_string()?;
        same.push(compare(
            "routing.hash",
            cid,
            wit_routing.hash(b"hello world\n")?,
        ));

        let ipfs: ipfs::Client = caps.get("ipfs")?;
        let wit_ipfs = typed.ipfs.ok_or("WIT granted no ipfs")?;
        let unixfs = ipfs.unixfs_request().send().pipeline.get_api();
        let mut request = unixfs.add_request();
        request.get().set_data(b"through both doors\n");
        let reply = request.send().promise.await?;
        let cid = reply.get()?.get_cid()?.to_string()?;
        let wit_unixfs = wit_ipfs.unixfs()?;
        let options = wit::AddOptions {
            cid_version: 0,
            raw_leaves: false,
        };
        let wit_cid = wit_unixfs.add(b"through both doors\n", options)?;
        same.push(compare("unixfs.add", cid.clone(), wit_cid));
        let mut request = unixfs.cat_request();
        request.get().set_path(format!("/ipfs/{cid}").as_str());
        let reply = request.send().promise.await?;
        let data = reply.get()?.get_data()?.to_vec();
        same.push(compare(
            "unixfs.cat",
            data,
            wit_unixfs.cat(&format!("/ipfs/{cid}"))?,
        ));

        println!("compared {}", same.len());
        if same.iter().all(|s| *s) {
            Ok(())
        } else {
            Err("the doors disagree".into())
        }
    })
}
