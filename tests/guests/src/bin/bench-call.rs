//! `bench-call [N]`: the latency of one capability call, guest to host and
//! back, timed in the guest. Shows the executor wakes on the stream's
//! pollable (a missed wake-up costs a timer tick, ~100 ms, per call).

use std::future::Future;
use std::process::ExitCode;
use std::time::Instant;

use ww_capnp::identity_capnp::identity;
use ww_test_guests::public_key;
use ww_test_guests::stats::Summary;

const WARM_UP: usize = 100;

/// Times `calls` sequential calls of `call`, after a warm-up.
async fn time<F, Fut>(calls: usize, mut call: F) -> Result<Summary, capnp::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), capnp::Error>>,
{
    for _ in 0..WARM_UP {
        call().await?;
    }
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        call().await?;
        samples.push(start.elapsed().as_secs_f64() * 1e6);
    }
    Ok(Summary::of(&mut samples))
}

async fn verify(identity: &identity::Client, key: &[u8]) -> Result<(), capnp::Error> {
    let mut request = identity.verify_request();
    let mut params = request.get();
    params.set_data(&[7u8; 32]);
    params.set_signature(&[0u8; 64]);
    params.set_public_key(key);
    request.send().promise.await?.get()?.get_valid();
    Ok(())
}

fn main() -> ExitCode {
    ww_guest::run(|membrane| async move {
        let calls = match std::env::args().nth(1) {
            Some(n) => n.parse()?,
            None => 10_000,
        };
        let caps = ww_guest::graft(&membrane).await?;
        let identity: identity::Client = caps.get("identity")?;
        let key = public_key(&identity).await?;

        let summary = time(calls, || verify(&identity, &key)).await?;
        println!("{summary}");
        let summary = time(calls, || async { public_key(&identity).await.map(drop) }).await?;
        println!("publicKey {summary}");
        Ok(())
    })
}
