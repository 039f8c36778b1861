//! `children`: native children through the node's `Executor` (the node
//! runs with `--allow-native-children` and has this program at
//! `/bin/native-cell` in its image). Each step prints one line:
//!
//! - a child given only `identity` grafts, says what it got, exits 0;
//! - a child that breaks its vat exits 3, and this cell's own calls go on;
//! - a spinning child with a CPU budget of 300 ms is stopped with 124;
//! - a hanging child is killed: 137;
//! - a child's exit code passes through, and a signal is 128 + n;
//! - a path that is not in the image fails the spawn.

use ww_capnp::identity_capnp::identity;
use ww_capnp::system_capnp::{byte_stream, executor, process};

use crate::{cap, graft, Graft, Result};

/// This program, in the image.
pub const SELF: &str = "/bin/native-cell";

/// Spawns `args` with the exports of `graft` named in `caps`, a CPU budget
/// (0: none) and the whole image as its root.
pub async fn spawn(
    executor: &executor::Client,
    graft: &Graft,
    args: &[&str],
    caps: &[&str],
    cpu_ms: u64,
) -> Result<process::Client> {
    let mut request = executor.spawn_request();
    let exports = graft.get()?.get_caps()?;
    let mut given = Vec::new();
    for export in exports.iter() {
        if caps.contains(&export.get_name()?.to_str()?) {
            given.push(export);
        }
    }
    {
        let mut params = request.get();
        let mut list = params.reborrow().init_args(args.len() as u32);
        for (i, a) in args.iter().enumerate() {
            list.set(i as u32, a);
        }
        let mut list = params.reborrow().init_caps(given.len() as u32);
        for (i, export) in given.into_iter().enumerate() {
            list.set_with_caveats(i as u32, export)?;
        }
        params.reborrow().init_limits().set_cpu_millis(cpu_ms);
        params.set_root("/");
    }
    Ok(request.send().promise.await?.get()?.get_process()?)
}

/// Everything a child writes to its stdout.
pub async fn stdout(process: &process::Client) -> Result<String> {
    let stream = process.stdout_request().send().pipeline.get_stream();
    read_all(&stream).await
}

async fn read_all(stream: &byte_stream::Client) -> Result<String> {
    let mut out = Vec::new();
    loop {
        let mut request = stream.read_request();
        request.get().set_max(64 << 10);
        let reply = request.send().promise.await?;
        let data = reply.get()?.get_data()?;
        if data.is_empty() {
            return Ok(String::from_utf8_lossy(&out).into_owned());
        }
        out.extend_from_slice(data);
    }
}

/// The child's exit status and CPU time in milliseconds.
pub async fn wait(process: &process::Client) -> Result<(i32, u64)> {
    let reply = process.wait_request().send().promise.await?;
    let results = reply.get()?;
    Ok((results.get_exit_code(), results.get_cpu_micros() / 1000))
}

pub async fn run(membrane: &ww_capnp::membrane_capnp::membrane::Client) -> Result<()> {
    let graft = graft(membrane).await?;
    let executor: executor::Client = cap(&graft, "executor")?;
    let identity: identity::Client = cap(&graft, "identity")?;

    let child = spawn(&executor, &graft, &[SELF, "graft"], &["identity"], 0).await?;
    let said = stdout(&child).await?;
    let (code, _) = wait(&child).await?;
    println!("children: graft child said {:?}, exit {code}", said.trim());

    let child = spawn(&executor, &graft, &[SELF, "garbage"], &["identity"], 0).await?;
    let said = stdout(&child).await?;
    let (code, _) = wait(&child).await?;
    let key = identity.public_key_request().send().promise.await?;
    println!(
        "children: garbage child said {:?}, exit {code}; parent key {} bytes",
        said.trim(),
        key.get()?.get_key()?.len()
    );

    let child = spawn(&executor, &graft, &[SELF, "spin"], &[], 300).await?;
    let (code, cpu) = wait(&child).await?;
    println!("children: spin child exit {code}, cpu {cpu} ms");

    let child = spawn(&executor, &graft, &[SELF, "hang"], &[], 0).await?;
    child.kill_request().send().promise.await?;
    let (code, _) = wait(&child).await?;
    println!("children: killed child exit {code}");

    let child = spawn(&executor, &graft, &[SELF, "exit", "7"], &[], 0).await?;
    let (exit, _) = wait(&child).await?;
    let child = spawn(&executor, &graft, &[SELF, "signal", "10"], &[], 0).await?;
    let (signal, _) = wait(&child).await?;
    println!("children: exit child {exit}, signal child {signal}");

    match spawn(&executor, &graft, &["/bin/no-such-program"], &[], 0).await {
        Ok(_) => println!("children: missing program SPAWNED"),
        Err(e) => println!("children: missing program refused: {e}"),
    }
    Ok(())
}
