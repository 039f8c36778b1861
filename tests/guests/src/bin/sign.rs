//! `sign NONCE_HEX DOMAIN`: signs the nonce with the node's key, through a
//! signer bound to DOMAIN, and prints what a verifier needs.

use std::process::ExitCode;

use ww_capnp::identity_capnp::identity;

const USAGE: &str = "usage: sign NONCE_HEX DOMAIN";

fn main() -> ExitCode {
    ww_guest::run(|membrane| async move {
        let mut args = std::env::args().skip(1);
        let nonce = hex::decode(args.next().ok_or(USAGE)?)?;
        let domain = args.next().ok_or(USAGE)?;

        let caps = ww_guest::graft(&membrane).await?;
        let identity: identity::Client = caps.get("identity")?;
        let mut request = identity.signer_request();
        request.get().set_domain(domain.as_str());
        let signer = request.send().pipeline.get_signer();

        let key = signer.public_key_request().send().promise.await?;
        let mut request = signer.sign_request();
        request.get().set_nonce(&nonce);
        request.get().set_epoch_seq(caps.epoch());
        let signature = request.send().promise.await?;

        println!("epoch={}", caps.epoch());
        println!("pubkey={}", hex::encode(key.get()?.get_key()?));
        println!(
            "signature={}",
            hex::encode(signature.get()?.get_signature()?)
        );
        Ok(())
    })
}
