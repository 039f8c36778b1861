//! `net`: cells on two nodes talking over the host's custom protocols.
//!
//! - `net listen PROTO`: echoes every stream on PROTO back to its sender;
//! - `net serve-vat PROTO`: serves a `Counter` as the bootstrap of a vat;
//! - `net sink PROTO`: takes streams on PROTO but reads none of them until
//!   a line arrives on stdin; then reads each to its end, prints
//!   `sink: read N bytes` and closes it;
//! - `net dial ADDR PROTO BYTES`: sends BYTES to the echo at ADDR
//!   (`/…/p2p/<id>`) while reading them back; checks them byte for byte;
//! - `net hold ADDR PROTO N`: opens N streams and keeps them, reports how
//!   many were admitted, then closes them and dials once more;
//! - `net hold-vat ADDR PROTO N`: dials N vats and keeps them, reports how
//!   many were admitted;
//! - `net call-vat ADDR PROTO N`: calls the remote `Counter` N times;
//! - `net garbage ADDR PROTO`: writes bytes that are not Cap'n Proto on a
//!   vat's protocol;
//! - `net flood ADDR PROTO N`: dials, sends N writes of 1 MiB at once as
//!   ordinary calls (not paced by the client's stream window), prints
//!   `flood: sent N`, then waits for them all, closes the stream, waits
//!   for the reader to close its side and prints `flood: N of N written`
//!   (or how many failed, and why);
//! - `net stale ADDR PROTO`: dials, prints `ready` and waits for a line on
//!   stdin (the test ends the epoch meanwhile), then uses the stream and
//!   reports `stream: stale N`.
//!
//! Serving modes print `id: …`, `addr: …` and `serving` and run until
//! killed; the others print one result line and exit.

use std::error::Error as StdError;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use capnp::capability::Promise;
use capnp::traits::HasTypeId;
use futures::future::{join, join_all, FutureExt, Shared};
use futures::io::AsyncBufReadExt;
use ww_capnp::system_capnp::{byte_stream, host, stream_handler};
use ww_test_guests::counter_capnp::counter;
use ww_test_guests::stats::Summary;

const USAGE: &str = "usage: net listen|serve-vat|sink PROTO | dial ADDR PROTO BYTES | \
                     hold|hold-vat|call-vat|flood ADDR PROTO N | garbage|stale ADDR PROTO";
const CHUNK: usize = 64 * 1024;

type Res<T> = Result<T, Box<dyn StdError>>;

/// Echoes each stream back until its sender closes it.
struct Echo;

impl stream_handler::Server for Echo {
    fn handle(
        self: Rc<Self>,
        params: stream_handler::HandleParams,
        _: stream_handler::HandleResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let stream = params.get().and_then(|p| p.get_stream());
        async move {
            let stream = stream?;
            loop {
                let data = read(&stream).await?;
                if data.is_empty() {
                    break;
                }
                write(&stream, &data).await?;
            }
            stream.close_request().send().promise.await?;
            Ok(())
        }
    }
}

struct Counter(std::cell::Cell<i64>);

impl counter::Server for Counter {
    fn increment(
        self: Rc<Self>,
        params: counter::IncrementParams,
        mut results: counter::IncrementResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let by = params.get().map(|p| p.get_by());
        std::future::ready(by.map(|by| {
            self.0.set(self.0.get() + by);
            results.get().set_value(self.0.get());
        }))
    }
}

/// Holds each stream unread until `go` fires, then reads it to its end.
struct Sink {
    go: Shared<futures::channel::oneshot::Receiver<()>>,
}

impl stream_handler::Server for Sink {
    fn handle(
        self: Rc<Self>,
        params: stream_handler::HandleParams,
        _: stream_handler::HandleResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let stream = params.get().and_then(|p| p.get_stream());
        let go = self.go.clone();
        async move {
            let stream = stream?;
            let _ = go.await;
            let mut total = 0;
            loop {
                match read(&stream).await {
                    Ok(data) if data.is_empty() => break,
                    Ok(data) => total += data.len(),
                    Err(e) => {
                        println!("sink: failed after {total} bytes: {e}");
                        return Err(e);
                    }
                }
            }
            println!("sink: read {total} bytes");
            // Closing our side tells the writer everything arrived.
            stream.close_request().send().promise.await?;
            Ok(())
        }
    }
}

/// The line on stdin that lets every [`Sink`] read.
async fn first_line() -> std::io::Result<()> {
    let mut line = String::new();
    futures::io::BufReader::new(ww_guest::io::stdin())
        .read_line(&mut line)
        .await?;
    Ok(())
}

/// `n` writes of 1 MiB, all sent before any is awaited.
async fn flood(stream: &byte_stream::Client, n: usize) -> Res<()> {
    let chunk = pattern(1 << 20);
    let mut writes = Vec::with_capacity(n);
    for _ in 0..n {
        // An ordinary call: a `-> stream` request would wait for the
        // client's window, and an attacker does not.
        let mut request = stream
            .client
            .new_call::<byte_stream::write_params::Owned, capnp::any_pointer::Owned>(
                byte_stream::Client::TYPE_ID,
                0,
                None,
            );
        request.get().set_data(&chunk);
        writes.push(request.send().promise);
    }
    println!("flood: sent {n}");
    let failures: Vec<String> = join_all(writes)
        .await
        .into_iter()
        .filter_map(|r| r.err().map(|e| e.to_string()))
        .collect();
    if let Some(first) = failures.first() {
        println!("flood: {} of {n} failed: {first}", failures.len());
        return Err("writes failed".into());
    }
    stream.close_request().send().promise.await?;
    // The reader closes its side once it has read everything: only then
    // may this node go (a connection dropped early loses what it carried).
    while !read(stream).await?.is_empty() {}
    println!("flood: {n} of {n} written");
    Ok(())
}

async fn read(stream: &byte_stream::Client) -> Result<Vec<u8>, capnp::Error> {
    let mut request = stream.read_request();
    request.get().set_max(CHUNK as u32);
    let reply = request.send().promise.await?;
    Ok(reply.get()?.get_data()?.to_vec())
}

async fn write(stream: &byte_stream::Client, data: &[u8]) -> Result<(), capnp::Error> {
    let mut request = stream.write_request();
    request.get().set_data(data);
    request.send().await
}

/// Deterministic, non-repeating-looking bytes (xorshift), so a shifted or
/// dropped chunk cannot compare equal.
fn pattern(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn peer_of(addr: &str) -> Res<&str> {
    Ok(addr
        .rsplit_once("/p2p/")
        .map(|(_, id)| id)
        .ok_or("the address has no /p2p/<id>")?)
}

async fn connect(host: &host::Client, addr: &str) -> Res<()> {
    let mut request = host.connect_request();
    request.get().set_addr(addr);
    request.send().promise.await?;
    Ok(())
}

async fn dial(
    host: &host::Client,
    peer: &str,
    protocol: &str,
) -> Result<byte_stream::Client, capnp::Error> {
    let dialer = host.network_request().send().pipeline.get_dialer();
    let mut request = dialer.dial_request();
    request.get().set_peer(peer);
    request.get().set_protocol(protocol);
    request.send().promise.await?.get()?.get_stream()
}

/// Sends `data` while reading it back; returns what came back.
async fn exchange(stream: &byte_stream::Client, data: &[u8]) -> Result<Vec<u8>, capnp::Error> {
    let send = async {
        for chunk in data.chunks(CHUNK) {
            write(stream, chunk).await?;
        }
        stream.close_request().send().promise.await?;
        Ok::<_, capnp::Error>(())
    };
    let receive = async {
        let mut back = Vec::with_capacity(data.len());
        loop {
            let chunk = read(stream).await?;
            if chunk.is_empty() {
                break;
            }
            back.extend_from_slice(&chunk);
        }
        Ok::<_, capnp::Error>(back)
    };
    let (sent, back) = join(send, receive).await;
    sent?;
    back
}

async fn serve(host: &host::Client, mode: &str, protocol: &str) -> Res<()> {
    let network = host.network_request().send().pipeline;
    let mut go = None;
    if mode == "listen" || mode == "sink" {
        let mut request = network.get_listener().listen_request();
        request.get().set_protocol(protocol);
        if mode == "listen" {
            request.get().set_handler(capnp_rpc::new_client(Echo));
        } else {
            let (tx, rx) = futures::channel::oneshot::channel();
            go = Some(tx);
            request
                .get()
                .set_handler(capnp_rpc::new_client(Sink { go: rx.shared() }));
        }
        request.send().promise.await?;
    } else {
        let counter: counter::Client = capnp_rpc::new_client(Counter(Default::default()));
        let mut request = network.get_vat_listener().serve_request();
        request.get().set_protocol(protocol);
        request
            .get()
            .init_cap()
            .set_as_capability(counter.client.hook);
        request.send().promise.await?;
    }
    let id = host.id_request().send().promise.await?;
    println!("id: {}", id.get()?.get_peer_id()?.to_str()?);
    let addrs = host.addrs_request().send().promise.await?;
    for addr in addrs.get()?.get_addrs()? {
        println!("addr: {}", addr?.to_str()?);
    }
    println!("serving");
    if let Some(go) = go {
        first_line().await?;
        let _ = go.send(());
    }
    Promise::<(), capnp::Error>::from_future(futures::future::pending()).await?;
    Ok(())
}

async fn main_with(host: host::Client, args: Vec<String>) -> Res<()> {
    let arg = |i: usize| args.get(i).map(String::as_str).ok_or(USAGE);
    let mode = arg(0)?;
    let serving = matches!(mode, "listen" | "serve-vat" | "sink");
    let protocol = arg(if serving { 1 } else { 2 })?;
    if serving {
        return serve(&host, mode, protocol).await;
    }
    let addr = arg(1)?;
    let peer = peer_of(addr)?;
    let connecting = Instant::now();
    connect(&host, addr).await?;
    match mode {
        "dial" => {
            let bytes: usize = arg(3)?.parse()?;
            let data = pattern(bytes);
            let started = Instant::now();
            let stream = dial(&host, peer, protocol).await?;
            let back = exchange(&stream, &data).await?;
            let secs = started.elapsed().as_secs_f64();
            if back != data {
                return Err(format!(
                    "{} bytes came back, not the {} sent, or not the same",
                    back.len(),
                    data.len()
                )
                .into());
            }
            println!(
                "dial: ok {bytes} bytes both ways in {:.0} ms ({:.1} MiB/s each way)",
                secs * 1e3,
                bytes as f64 / secs / (1024.0 * 1024.0)
            );
        }
        "hold" => {
            let n: usize = arg(3)?.parse()?;
            let mut held = Vec::new();
            let mut refusals = Vec::new();
            for _ in 0..n {
                match dial(&host, peer, protocol).await {
                    Ok(stream) => held.push(stream),
                    Err(e) => refusals.push(e.to_string()),
                }
            }
            // Each held stream works.
            for stream in &held {
                write(stream, b"ping").await?;
                if read(stream).await? != b"ping" {
                    return Err("a held stream did not echo".into());
                }
            }
            println!("hold: accepted {} refused {}", held.len(), refusals.len());
            if let Some(reason) = refusals.first() {
                println!("refusal: {reason}");
            }
            for stream in &held {
                stream.close_request().send().promise.await?;
                while !read(stream).await?.is_empty() {}
            }
            drop(held);
            // The listener frees their places as it sees them end; retry a
            // bounded number of times.
            let mut last = String::new();
            for _ in 0..100 {
                match dial(&host, peer, protocol).await {
                    Ok(stream) => {
                        exchange(&stream, b"after").await?;
                        println!("after: ok");
                        return Ok(());
                    }
                    Err(e) => last = e.to_string(),
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            return Err(format!("no stream admitted after closing the held ones: {last}").into());
        }
        "hold-vat" => {
            let n: usize = arg(3)?.parse()?;
            let vat_client = host.network_request().send().pipeline.get_vat_client();
            let mut held = Vec::new();
            let mut refusals = Vec::new();
            for _ in 0..n {
                let mut request = vat_client.dial_request();
                request.get().set_peer(peer);
                request.get().set_protocol(protocol);
                match request.send().promise.await {
                    Ok(reply) => {
                        let counter: counter::Client =
                            reply.get()?.get_cap().get_as_capability()?;
                        held.push(counter);
                    }
                    Err(e) => refusals.push(e.to_string()),
                }
            }
            // Each admitted vat serves.
            for counter in &held {
                let mut request = counter.increment_request();
                request.get().set_by(1);
                request.send().promise.await?;
            }
            println!(
                "hold-vat: accepted {} refused {}",
                held.len(),
                refusals.len()
            );
            if let Some(reason) = refusals.first() {
                println!("refusal: {reason}");
            }
        }
        "call-vat" => {
            let n: usize = arg(3)?.parse()?;
            let vat_client = host.network_request().send().pipeline.get_vat_client();
            let mut request = vat_client.dial_request();
            request.get().set_peer(peer);
            request.get().set_protocol(protocol);
            let reply = request.send().promise.await?;
            let counter: counter::Client = reply.get()?.get_cap().get_as_capability()?;
            let mut samples = Vec::with_capacity(n);
            let mut last = 0;
            for i in 0..n {
                let started = Instant::now();
                let mut request = counter.increment_request();
                request.get().set_by(1);
                last = request.send().promise.await?.get()?.get_value();
                samples.push(started.elapsed().as_secs_f64() * 1e6);
                if i == 0 {
                    let ms = connecting.elapsed().as_secs_f64() * 1e3;
                    println!("first: connect + vat + first call in {ms:.1} ms");
                }
            }
            let summary = Summary::of(&mut samples);
            println!(
                "vat: {n} calls, last={last}, p50 {:.0} us, p99 {:.0} us",
                summary.p50_us, summary.p99_us
            );
        }
        "flood" => {
            let n: usize = arg(3)?.parse()?;
            let stream = dial(&host, peer, protocol).await?;
            flood(&stream, n).await?;
        }
        "stale" => {
            let stream = dial(&host, peer, protocol).await?;
            write(&stream, b"before").await?;
            ww_test_guests::ready_then_wait()?;
            // A read, not a write: a streaming write's error would only
            // surface on a later call.
            if !ww_test_guests::report_stale("stream", read(&stream).await) {
                return Err("a dialed stream outlived its epoch".into());
            }
        }
        "garbage" => {
            let stream = dial(&host, peer, protocol).await?;
            write(&stream, &[0xff; 4096]).await?;
            stream.close_request().send().promise.await?;
            // The remote vat refuses the frame and ends the stream.
            while !read(&stream).await?.is_empty() {}
            println!("garbage: sent, stream ended");
        }
        _ => return Err(USAGE.into()),
    }
    Ok(())
}

fn main() -> ExitCode {
    ww_guest::run(|membrane| async move {
        let caps = ww_guest::graft(&membrane).await?;
        let host: host::Client = caps.get("host")?;
        main_with(host, std::env::args().skip(1).collect()).await
    })
}
