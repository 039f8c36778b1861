//! Latencies timed inside the cell, for `bench/native.sh`:
//!
//! - `bench-call N`: N sequential `Identity.verify` and `Identity.publicKey`
//!   round trips (after 100 warm-up calls), as the Wasm `bench-call` guest
//!   times them;
//! - `bench-spawn N`: N sequential native children (`quiet`: graft and
//!   exit), each timed from `Executor.spawn` to `Process.wait` returning.
//!
//! Each prints `name calls=N p50_us=… p99_us=… mean_us=…`.

use std::future::Future;
use std::time::Instant;

use ww_capnp::identity_capnp::identity;
use ww_capnp::membrane_capnp::membrane;
use ww_capnp::system_capnp::executor;

use crate::children::{spawn as spawn_child, wait, SELF};
use crate::{cap, graft, Result};

const WARM_UP: u32 = 100;

fn summary(name: &str, samples: &mut [f64]) {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    let rank = |p: usize| samples[((p * n).div_ceil(100)).max(1) - 1];
    let mean = samples.iter().sum::<f64>() / n.max(1) as f64;
    println!(
        "{name} calls={n} p50_us={:.2} p99_us={:.2} mean_us={mean:.2}",
        rank(50),
        rank(99)
    );
}

async fn time<F, Fut>(count: u32, mut call: F) -> Result<Vec<f64>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let mut samples = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let start = Instant::now();
        call().await?;
        samples.push(start.elapsed().as_secs_f64() * 1e6);
    }
    Ok(samples)
}

pub async fn call(membrane: &membrane::Client, count: u32) -> Result<()> {
    let graft = graft(membrane).await?;
    let identity: identity::Client = cap(&graft, "identity")?;
    let key = identity.public_key_request().send().promise.await?;
    let key = key.get()?.get_key()?.to_vec();
    let verify = || async {
        let mut request = identity.verify_request();
        request.get().set_data(&[7u8; 32]);
        request.get().set_signature(&[0u8; 64]);
        request.get().set_public_key(&key);
        request.send().promise.await?.get()?.get_valid();
        Ok(())
    };
    let public_key = || async {
        identity.public_key_request().send().promise.await?;
        Ok(())
    };
    time(WARM_UP, verify).await?;
    summary("verify", &mut time(count, verify).await?);
    time(WARM_UP, public_key).await?;
    summary("publicKey", &mut time(count, public_key).await?);
    Ok(())
}

pub async fn spawn(membrane: &membrane::Client, count: u32) -> Result<()> {
    let graft = graft(membrane).await?;
    let executor: executor::Client = cap(&graft, "executor")?;
    let once = || async {
        let child = spawn_child(&executor, &graft, &[SELF, "quiet"], &["identity"], 0).await?;
        match wait(&child).await? {
            (0, _) => Ok(()),
            (code, _) => Err(format!("a quiet child exited {code}").into()),
        }
    };
    time(WARM_UP.min(count), once).await?;
    summary("spawn-to-exit", &mut time(count, once).await?);
    Ok(())
}
