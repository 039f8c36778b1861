//! `ipfs-cmd`: drives the node's `Ipfs` (and `Host`, to connect) from
//! stdin, one command a line, so a test can steer two nodes at once.
//!
//! Commands: `id`, `addrs`, `connect ADDR`, `add TEXT`, `gen LEN SEED`
//! (adds LEN bytes of xorshift64 output, streamed in 1 MiB writes), `cat
//! PATH` (whole file), `sum PATH` (streams the file; prints its length and
//! FNV-1a 64 checksum), `ls PATH`, `pin CID`, `unpin CID`, `timed COMMAND`
//! (answers `timed: <milliseconds> <answer>`, for bench/ipfs.sh), `quit`. Each
//! answer is one stdout line `<command>: <answer>`, or `<command>: error
//! <message>`. Prints `ready` once grafted.

use std::io::BufRead;
use std::process::ExitCode;

use ww_capnp::ipfs_capnp::{ipfs, unix_fs};
use ww_capnp::system_capnp::host;

/// `length` bytes of xorshift64 output seeded with `seed` (the generator
/// the IPFS tests share).
fn content(length: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    let mut out = Vec::with_capacity(length + 8);
    while out.len() < length {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(length);
    out
}

/// FNV-1a 64 over `data`, continuing from `hash`.
fn fnv1a(mut hash: u64, data: &[u8]) -> u64 {
    for b in data {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

async fn answer(
    host: &host::Client,
    ipfs: &ipfs::Client,
    fs: &unix_fs::Client,
    command: &str,
    arg: &str,
) -> Result<String, capnp::Error> {
    Ok(match command {
        "id" => {
            let reply = host.id_request().send().promise.await?;
            reply.get()?.get_peer_id()?.to_string()?
        }
        "addrs" => {
            let reply = host.addrs_request().send().promise.await?;
            let mut addrs = Vec::new();
            for addr in reply.get()?.get_addrs()? {
                addrs.push(addr?.to_string()?);
            }
            addrs.join(" ")
        }
        "connect" => {
            let mut request = host.connect_request();
            request.get().set_addr(arg);
            request.send().promise.await?;
            "ok".into()
        }
        "add" => {
            let mut request = fs.add_request();
            request.get().set_data(arg.as_bytes());
            let reply = request.send().promise.await?;
            reply.get()?.get_cid()?.to_string()?
        }
        "gen" => {
            let (len, seed) = arg.split_once(' ').unwrap_or((arg, "1"));
            let len: usize = len
                .parse()
                .map_err(|e| capnp::Error::failed(format!("{e}")))?;
            let seed: u64 = seed
                .parse()
                .map_err(|e| capnp::Error::failed(format!("{e}")))?;
            let data = content(len, seed);
            let reply = fs.add_stream_request().send().promise.await?;
            let writer = reply.get()?.get_writer()?;
            for piece in data.chunks(1 << 20) {
                let mut request = writer.write_request();
                request.get().set_data(piece);
                request.send().await?;
            }
            let reply = writer.finish_request().send().promise.await?;
            reply.get()?.get_cid()?.to_string()?
        }
        "cat" => {
            let mut request = fs.cat_request();
            request.get().set_path(arg);
            let reply = request.send().promise.await?;
            String::from_utf8_lossy(reply.get()?.get_data()?).into_owned()
        }
        "sum" => {
            let mut request = fs.cat_stream_request();
            request.get().set_path(arg);
            let reply = request.send().promise.await?;
            let stream = reply.get()?.get_stream()?;
            let (mut len, mut hash) = (0usize, FNV_OFFSET);
            loop {
                let mut request = stream.read_request();
                request.get().set_max(1 << 20);
                let reply = request.send().promise.await?;
                let data = reply.get()?.get_data()?;
                if data.is_empty() {
                    break;
                }
                len += data.len();
                hash = fnv1a(hash, data);
            }
            format!("{len} {hash:016x}")
        }
        "ls" => {
            let mut request = fs.ls_request();
            request.get().set_path(arg);
            let reply = request.send().promise.await?;
            let mut entries = Vec::new();
            for e in reply.get()?.get_entries()? {
                let kind = if e.get_is_directory() { "d" } else { "f" };
                entries.push(format!(
                    "{}:{}:{kind}",
                    e.get_name()?.to_str()?,
                    e.get_size()
                ));
            }
            entries.join(" ")
        }
        "pin" | "unpin" => {
            if command == "pin" {
                let mut request = ipfs.pin_request();
                request.get().set_cid(arg);
                request.send().promise.await?;
            } else {
                let mut request = ipfs.unpin_request();
                request.get().set_cid(arg);
                request.send().promise.await?;
            }
            "ok".into()
        }
        other => return Err(capnp::Error::failed(format!("unknown command {other:?}"))),
    })
}

fn main() -> ExitCode {
    ww_guest::run(|membrane| async move {
        let caps = ww_guest::graft(&membrane).await?;
        let host: host::Client = caps.get("host")?;
        let ipfs: ipfs::Client = caps.get("ipfs")?;
        let reply = ipfs.unixfs_request().send().promise.await?;
        let fs = reply.get()?.get_api()?;
        println!("ready");
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            let (command, arg) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
            if command == "quit" {
                break;
            }
            let (command, arg, started) = match command {
                "timed" => {
                    let (inner, rest) = arg.trim().split_once(' ').unwrap_or((arg.trim(), ""));
                    (inner, rest, Some(std::time::Instant::now()))
                }
                _ => (command, arg, None),
            };
            let result = answer(&host, &ipfs, &fs, command, arg.trim()).await;
            if let Some(started) = started {
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                match result {
                    Ok(text) => println!("timed: {ms:.1} {text}"),
                    Err(e) => println!("timed: error {e}"),
                }
                continue;
            }
            match result {
                Ok(text) => println!("{command}: {text}"),
                Err(e) => println!("{command}: error {e}"),
            }
        }
        Ok(())
    })
}
