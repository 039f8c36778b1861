//! Shared pieces of the end-to-end test guests (one program per
//! `src/bin/*.rs`; their stdout lines are what the tests assert).

pub mod fixture_capnp {
    //! The panicky provider's `Fixture` interface
    //! (`tests/providers/panicky/schema/fixture.capnp`).
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/fixture_capnp.rs"));
}

pub mod counter_capnp {
    //! The `Counter` the `net` guest serves over a vat (`schema/counter.capnp`).
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/counter_capnp.rs"));
}

pub mod kv_capnp {
    //! The Python provider's `Kv` interface
    //! (`tests/providers/python/kv.capnp`).
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/kv_capnp.rs"));
}

pub mod raw_vat;
pub mod stats;

use std::io::{BufRead, Write};

use ww_capnp::identity_capnp::identity;

/// Prints `ready`, flushes stdout, and blocks until the test writes a line
/// to stdin (the test advances the epoch in between).
///
/// # Errors
///
/// When stdout or stdin fail.
pub fn ready_then_wait() -> std::io::Result<()> {
    let mut stdout = std::io::stdout();
    writeln!(stdout, "ready")?;
    stdout.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(())
}

/// `identity.publicKey()`, the key copied out.
///
/// # Errors
///
/// When the call fails (e.g. a stale epoch).
pub async fn public_key(identity: &identity::Client) -> Result<Vec<u8>, capnp::Error> {
    let reply = identity.public_key_request().send().promise.await?;
    Ok(reply.get()?.get_key()?.to_vec())
}

/// Prints `<label>: stale <n>` when `result` failed with a stale epoch and
/// returns true; otherwise prints `<label>: NOT STALE` (details on stderr)
/// and returns false.
pub fn report_stale<T>(label: &str, result: Result<T, capnp::Error>) -> bool {
    match result {
        Err(e) => match ww_guest::stale_epoch(&e) {
            Some(n) => {
                println!("{label}: stale {n}");
                true
            }
            None => {
                println!("{label}: NOT STALE");
                eprintln!("{label}: failed, but not with staleEpoch: {e}");
                false
            }
        },
        Ok(_) => {
            println!("{label}: NOT STALE");
            eprintln!("{label}: the call succeeded");
            false
        }
    }
}

/// Spawns `args` (args[0] is the wasm's path in the image) with `caps`,
/// a memory limit and a CPU budget (0: the host's default) and the whole
/// image as the child's file system.
///
/// # Errors
///
/// When the executor refuses or the call fails.
pub async fn spawn(
    executor: &ww_capnp::system_capnp::executor::Client,
    args: &[&str],
    caps: &[&ww_guest::Export],
    memory: u64,
    cpu_ms: u64,
) -> Result<ww_capnp::system_capnp::process::Client, capnp::Error> {
    let mut req = executor.spawn_request();
    {
        let mut p = req.get();
        let mut list = p.reborrow().init_args(args.len() as u32);
        for (i, a) in args.iter().enumerate() {
            list.set(i as u32, a);
        }
        let mut list = p.reborrow().init_caps(caps.len() as u32);
        for (i, cap) in caps.iter().enumerate() {
            cap.write(list.reborrow().get(i as u32))?;
        }
        let mut limits = p.reborrow().init_limits();
        limits.set_max_memory_bytes(memory);
        limits.set_cpu_millis(cpu_ms);
        p.set_root("/");
    }
    req.send().promise.await?.get()?.get_process()
}
