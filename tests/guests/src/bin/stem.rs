//! pid0 for the `--stem` tests: what a cell sees while the node moves from
//! head to head. argv[1] picks the mode:
//!
//! - none: graft, print `ready epoch=N`, then answer one line of stdin at a
//!   time until it ends:
//!   - `cat PATH`: `cat PATH: CONTENT` (trimmed) or `cat PATH: missing`,
//!     read through the cell's own root;
//!   - `check`: a call on the capabilities of the first graft: `check: ok`
//!     or `check: stale N`;
//!   - `regraft`: graft again: `regraft: ok epoch=N`;
//!   - `child PATH`: spawn this program (`cat PATH` mode) with the latest
//!     graft's executor and print its line as `child: LINE`;
//! - `cat PATH`: print `PATH: CONTENT` or `PATH: missing` and exit;
//! - `idle`: read stdin until it ends (a child that stays alive);
//! - `watch`: keep a `wait` on an idle child in flight; when the epoch ends
//!   it fails with staleEpoch, the cell grafts again at once and prints
//!   `regraft: epoch=N unix_us=T` (wall clock), and starts over.

use std::io::{BufRead, Read};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use ww_capnp::identity_capnp::identity;
use ww_capnp::system_capnp::{byte_stream, executor, process};
use ww_guest::Caps;
use ww_test_guests::{public_key, spawn};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn cat(path: &str) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => text.trim().to_string(),
        Err(_) => "missing".into(),
    }
}

async fn read_all(stream: &byte_stream::Client) -> std::result::Result<String, capnp::Error> {
    let mut out = Vec::new();
    loop {
        let mut request = stream.read_request();
        request.get().set_max(64 * 1024);
        let reply = request.send().promise.await?;
        let data = reply.get()?.get_data()?;
        if data.is_empty() {
            return Ok(String::from_utf8_lossy(&out).into_owned());
        }
        out.extend_from_slice(data);
    }
}

/// `child PATH`: what a cell spawned now reads at PATH.
async fn child(caps: &Caps, path: &str) -> std::result::Result<String, capnp::Error> {
    let executor: executor::Client = caps.get("executor")?;
    let process = spawn(&executor, &["boot/main.wasm", "cat", path], &[], 0, 0).await?;
    let stdout = process
        .stdout_request()
        .send()
        .promise
        .await?
        .get()?
        .get_stream()?;
    Ok(read_all(&stdout).await?.trim().to_string())
}

fn stale_or<T>(
    result: std::result::Result<T, capnp::Error>,
    ok: impl FnOnce(T) -> String,
) -> String {
    match result {
        Ok(value) => ok(value),
        Err(e) => match ww_guest::stale_epoch(&e) {
            Some(n) => format!("stale {n}"),
            None => format!("error ({e})"),
        },
    }
}

async fn commands(membrane: ww_capnp::membrane_capnp::membrane::Client) -> Result<()> {
    let first = ww_guest::graft(&membrane).await?;
    let identity: identity::Client = first.get("identity")?;
    let mut latest = ww_guest::graft(&membrane).await?;
    println!("ready epoch={}", first.epoch());
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let (command, arg) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        match command {
            "cat" => println!("cat {arg}: {}", cat(arg)),
            "check" => println!(
                "check: {}",
                stale_or(public_key(&identity).await, |_| "ok".into())
            ),
            "regraft" => {
                latest = ww_guest::graft(&membrane).await?;
                println!("regraft: ok epoch={}", latest.epoch());
            }
            "child" => println!("child: {}", stale_or(child(&latest, arg).await, |l| l)),
            other => println!("unknown command {other:?}"),
        }
    }
    Ok(())
}

async fn watch(membrane: ww_capnp::membrane_capnp::membrane::Client) -> Result<()> {
    loop {
        let caps = ww_guest::graft(&membrane).await?;
        let executor: executor::Client = caps.get("executor")?;
        let process: process::Client =
            spawn(&executor, &["boot/main.wasm", "idle"], &[], 0, 0).await?;
        println!("watching epoch={}", caps.epoch());
        let waited = process.wait_request().send().promise.await;
        match waited {
            Err(e) if ww_guest::stale_epoch(&e).is_some() => {
                let caps = ww_guest::graft(&membrane).await?;
                let now = SystemTime::now().duration_since(UNIX_EPOCH)?;
                println!(
                    "regraft: epoch={} unix_us={}",
                    caps.epoch(),
                    now.as_micros()
                );
            }
            Err(e) => return Err(e.into()),
            Ok(_) => return Err("the idle child exited".into()),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("cat") => {
            let path = args.get(2).map(String::as_str).unwrap_or("");
            println!("{path}: {}", cat(path));
            ExitCode::SUCCESS
        }
        Some("idle") => {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
            ExitCode::SUCCESS
        }
        Some("watch") => ww_guest::run(watch),
        _ => ww_guest::run(commands),
    }
}
