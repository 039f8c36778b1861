//! Spawn benchmarks, timed inside the parent cell (argv[1] picks one):
//!
//! - `latency N`: N sequential spawn → exit round trips of /bin/hello.wasm;
//! - `throughput N K`: N spawns with K in flight; spawns per second;
//! - `idle N`: holds N idle children (each blocked reading its stdin),
//!   prints `idle N`, and waits for a line of stdin (the script samples the
//!   node's memory meanwhile).

use std::process::ExitCode;
use std::time::Instant;

use futures::future::try_join_all;
use ww_capnp::system_capnp::executor;
use ww_test_guests::stats::Summary;
use ww_test_guests::{ready_then_wait, spawn};

async fn run_to_exit(executor: &executor::Client) -> std::result::Result<i32, capnp::Error> {
    let p = spawn(executor, &["/bin/hello.wasm"], &[], 0, 0).await?;
    Ok(p.wait_request()
        .send()
        .promise
        .await?
        .get()?
        .get_exit_code())
}

fn main() -> ExitCode {
    ww_guest::run(|membrane| async move {
        let caps = ww_guest::graft(&membrane).await?;
        let executor: executor::Client = caps.get("executor")?;
        let args: Vec<String> = std::env::args().collect();
        let number =
            |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
        match args.get(1).map(String::as_str) {
            Some("latency") => {
                let n = number(2, 1000);
                for _ in 0..20 {
                    run_to_exit(&executor).await?;
                }
                let mut samples = Vec::with_capacity(n);
                for _ in 0..n {
                    let start = Instant::now();
                    run_to_exit(&executor).await?;
                    samples.push(start.elapsed().as_secs_f64() * 1e6);
                }
                println!("spawn-exit {}", Summary::of(&mut samples));
            }
            Some("throughput") => {
                let (n, k) = (number(2, 1000), number(3, 8).max(1));
                let start = Instant::now();
                let mut done = 0;
                while done < n {
                    let batch = k.min(n - done);
                    try_join_all((0..batch).map(|_| run_to_exit(&executor))).await?;
                    done += batch;
                }
                let secs = start.elapsed().as_secs_f64();
                println!("spawns={n} in_flight={k} per_second={:.0}", n as f64 / secs);
            }
            Some("idle") => {
                let n = number(2, 1000);
                let mut held = Vec::with_capacity(n);
                for _ in 0..n {
                    held.push(spawn(&executor, &["/bin/upcase.wasm"], &[], 0, 0).await?);
                }
                // Every child has started once its stdin can be asked for.
                for p in &held {
                    p.stdin_request().send().promise.await?;
                }
                println!("idle {n}");
                ready_then_wait()?;
            }
            other => return Err(format!("unknown benchmark {other:?}").into()),
        }
        Ok(())
    })
}
