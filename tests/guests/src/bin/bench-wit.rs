//! `bench-wit [N]`: the cost of one call through the typed WIT door and
//! through the RPC vat, for the same operations on the same guarded
//! capabilities, timed in the guest. Calls are timed in batches of
//! [`BATCH`] (a clock read costs about as much as a WIT call); each line
//! reports the per-call p50/p99/mean over the batches.

use std::future::Future;
use std::process::ExitCode;
use std::time::Instant;

use ww_capnp::identity_capnp::identity;
use ww_capnp::system_capnp::executor;
use ww_guest::wit;
use ww_test_guests::public_key;
use ww_test_guests::stats::Summary;

/// Calls per timed batch.
const BATCH: usize = 100;

/// Per-call times of `calls` WIT calls of `call`, after a warm-up batch.
fn time_wit<T>(
    calls: usize,
    mut call: impl FnMut() -> Result<T, wit::Error>,
) -> Result<Summary, wit::Error> {
    for _ in 0..BATCH {
        call()?;
    }
    let mut samples = Vec::with_capacity(calls / BATCH);
    for _ in 0..(calls / BATCH).max(1) {
        let start = Instant::now();
        for _ in 0..BATCH {
            call()?;
        }
        samples.push(start.elapsed().as_secs_f64() * 1e6 / BATCH as f64);
    }
    Ok(Summary::of(&mut samples))
}

/// The same for vat calls.
async fn time_vat<F, Fut>(calls: usize, mut call: F) -> Result<Summary, capnp::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), capnp::Error>>,
{
    for _ in 0..BATCH {
        call().await?;
    }
    let mut samples = Vec::with_capacity(calls / BATCH);
    for _ in 0..(calls / BATCH).max(1) {
        let start = Instant::now();
        for _ in 0..BATCH {
            call().await?;
        }
        samples.push(start.elapsed().as_secs_f64() * 1e6 / BATCH as f64);
    }
    Ok(Summary::of(&mut samples))
}

async fn echo(executor: &executor::Client) -> Result<(), capnp::Error> {
    let mut request = executor.echo_request();
    request.get().set_message("x");
    request.send().promise.await?.get()?.get_response()?;
    Ok(())
}

fn main() -> ExitCode {
    ww_guest::run(|membrane| async move {
        let calls = match std::env::args().nth(1) {
            Some(n) => n.parse()?,
            None => 100_000,
        };
        let caps = ww_guest::graft(&membrane).await?;
        let identity: identity::Client = caps.get("identity")?;
        let executor: executor::Client = caps.get("executor")?;
        let typed = wit::graft()?;
        let wit_identity = typed.identity.ok_or("no identity through WIT")?;
        let wit_executor = typed.executor.ok_or("no executor through WIT")?;

        let summary = time_wit(calls, || wit_identity.public_key())?;
        println!("wit identity.public-key {summary}");
        let summary = time_vat(calls, || async { public_key(&identity).await.map(drop) }).await?;
        println!("vat Identity.publicKey {summary}");
        let summary = time_wit(calls, || wit_executor.echo("x"))?;
        println!("wit executor.echo {summary}");
        let summary = time_vat(calls, || echo(&executor)).await?;
        println!("vat Executor.echo {summary}");
        let summary = time_wit(calls, wit::epoch)?;
        println!("wit membrane.epoch {summary}");
        let summary = time_vat(calls, || async {
            membrane
                .epoch_request()
                .send()
                .promise
                .await?
                .get()?
                .get_epoch()?;
            Ok(())
        })
        .await?;
        println!("vat Membrane.epoch {summary}");
        Ok(())
    })
}
