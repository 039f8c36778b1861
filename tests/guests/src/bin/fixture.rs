//! A third-party capability through the membrane: the panicky provider's
//! `Fixture`. A panic inside the provider is an error, not a dead provider;
//! a capability passed in and returned comes back guarded by the epoch.

use std::process::ExitCode;

use ww_capnp::identity_capnp::identity;
use ww_test_guests::fixture_capnp::fixture;
use ww_test_guests::{public_key, ready_then_wait, report_stale};

async fn ping(fixture: &fixture::Client, n: u32) -> Result<u32, capnp::Error> {
    let mut request = fixture.ping_request();
    request.get().set_n(n);
    Ok(request.send().promise.await?.get()?.get_n())
}

async fn reflect(
    fixture: &fixture::Client,
    cap: &identity::Client,
) -> Result<identity::Client, capnp::Error> {
    let mut request = fixture.reflect_request();
    request
        .get()
        .init_cap()
        .set_as_capability(cap.client.hook.add_ref());
    let reply = request.send().promise.await?;
    let reflected = reply.get()?.get_cap().get_as_capability()?;
    Ok(reflected)
}

fn main() -> ExitCode {
    ww_guest::run(|membrane| async move {
        let caps = ww_guest::graft(&membrane).await?;
        let fixture: fixture::Client = caps.get("fixture")?;
        let identity: identity::Client = caps.get("identity")?;

        let pinged = ping(&fixture, 1).await?;
        println!("ping: {pinged}");

        let panicked = match fixture.panic_request().send().promise.await {
            Err(e) => {
                println!("panic: error ({e})");
                true
            }
            Ok(_) => {
                println!("panic: NO ERROR");
                false
            }
        };

        let after = match ping(&fixture, 2).await {
            Ok(n) => {
                println!("ping-after-panic: {n}");
                n == 3
            }
            Err(e) => {
                println!("ping-after-panic: error ({e})");
                false
            }
        };

        let reflected = reflect(&fixture, &identity).await?;
        let reflect_ok = match public_key(&reflected).await {
            Ok(_) => {
                println!("reflect: ok");
                true
            }
            Err(e) => {
                println!("reflect: error ({e})");
                false
            }
        };

        ready_then_wait()?;
        let stale = report_stale("reflected", public_key(&reflected).await);

        if pinged == 2 && panicked && after && reflect_ok && stale {
            Ok(())
        } else {
            Err("the fixture provider did not behave as expected".into())
        }
    })
}
