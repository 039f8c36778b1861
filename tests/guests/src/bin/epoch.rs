//! Epoch revocation, end to end: capabilities from a graft, and those
//! returned by calls on them, fail with `staleEpoch` once the test advances
//! the epoch (between `ready` and the line it writes to stdin); a new graft
//! works.

use std::process::ExitCode;

use ww_capnp::identity_capnp::identity;
use ww_test_guests::{public_key, ready_then_wait, report_stale};

fn main() -> ExitCode {
    ww_guest::run(|membrane| async move {
        let caps = ww_guest::graft(&membrane).await?;
        let identity: identity::Client = caps.get("identity")?;
        public_key(&identity).await?;
        println!("before: ok");

        let mut request = identity.signer_request();
        request.get().set_domain("epoch-test");
        let signer = request.send().pipeline.get_signer();
        // Resolve the returned capability before the epoch ends.
        signer.domain_request().send().promise.await?;

        ready_then_wait()?;

        let top = report_stale("top", public_key(&identity).await);
        let mut request = signer.sign_request();
        request.get().set_nonce(&[0u8; 32]);
        request.get().set_epoch_seq(caps.epoch());
        let returned = report_stale("returned", request.send().promise.await);

        let caps = ww_guest::graft(&membrane).await?;
        let identity: identity::Client = caps.get("identity")?;
        let regraft = match public_key(&identity).await {
            Ok(_) => {
                println!("regraft: ok epoch={}", caps.epoch());
                true
            }
            Err(e) => {
                println!("regraft: error ({e})");
                false
            }
        };

        if top && returned && regraft {
            Ok(())
        } else {
            Err("revocation did not behave as expected".into())
        }
    })
}
