//! A hostile loader for the compile-bound tests: it builds valid core
//! modules in memory and has the node compile them through
//! `Executor.runtime().load`. argv[1] picks the scenario; each prints
//! `name: result` lines the tests assert:
//!
//! - `bomb SIZE_KIB BIG_KIB`: a module of BIG_KIB (refused for its size),
//!   then `/bin/cat.wasm` as a live sibling, then a module of SIZE_KIB with
//!   one huge function, loaded while the cell keeps calling
//!   `Executor.echo` and writing to the sibling (counting what answered
//!   before the load did), then one tiny module; then `done`, a line of
//!   stdin (the test reads the node's memory), and the end;
//! - `flood N`: N distinct small modules (each with 64 KiB of data, so
//!   its compiled code is about as big), loaded one after the other; then
//!   `done` and a line of stdin;
//! - `stall SIZE_KIB`: (benchmark) one huge function loaded while echo
//!   round trips are timed: prints the longest round trip in ms.

use std::io::BufRead;
use std::process::ExitCode;
use std::time::Instant;

use futures::future::{select, Either};
use ww_capnp::system_capnp::{executor, process, runtime};
use ww_test_guests::spawn;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn leb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn section(id: u8, body: &[u8], out: &mut Vec<u8>) {
    out.push(id);
    leb(body.len() as u64, out);
    out.extend_from_slice(body);
}

/// A core module exporting an empty `_start` (its first instruction is
/// `i32.const seed; drop`, so seeds give distinct modules) and one more
/// function of about `body_bytes` bytes: a straight line of adds over 64
/// locals, which keeps Cranelift busy (and compiles to almost nothing).
/// With `data_bytes`, a memory initialized with that many bytes, which the
/// compiled code carries (cheap to compile, big to cache).
fn module(seed: u32, body_bytes: usize, data_bytes: usize) -> Vec<u8> {
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    section(1, &[1, 0x60, 0, 0], &mut wasm);
    section(3, &[2, 0, 0], &mut wasm);
    if data_bytes > 0 {
        let pages = (data_bytes >> 16) as u64 + 1;
        let mut memory = vec![1, 0];
        leb(pages, &mut memory);
        section(5, &memory, &mut wasm);
    }
    section(7, b"\x01\x06_start\x00\x00", &mut wasm);
    let mut start = vec![0];
    start.push(0x41);
    leb(u64::from(seed) << 1, &mut start); // a non-negative signed LEB
    start.extend_from_slice(&[0x1a, 0x0b]);
    let mut big = vec![1, 64, 0x7f]; // 64 locals of i32
    let mut i = 0u32;
    while big.len() < body_bytes {
        let (a, b, c) = (i % 64, (i * 7 + 3) % 64, (i * 13 + 5) % 64);
        big.extend_from_slice(&[0x20, a as u8, 0x20, b as u8, 0x6a, 0x21, c as u8]);
        i += 1;
    }
    big.push(0x0b);
    let mut code = vec![2];
    for body in [&start, &big] {
        leb(body.len() as u64, &mut code);
        code.extend_from_slice(body);
    }
    section(10, &code, &mut wasm);
    if data_bytes > 0 {
        let mut data = vec![1, 0, 0x41, 0, 0x0b];
        leb(data_bytes as u64, &mut data);
        data.extend((0..data_bytes).map(|i| (i as u32).wrapping_mul(seed | 1) as u8));
        section(11, &data, &mut wasm);
    }
    wasm
}

async fn load(runtime: &runtime::Client, wasm: &[u8]) -> std::result::Result<(), capnp::Error> {
    let mut req = runtime.load_request();
    req.get().set_wasm(wasm);
    req.send().promise.await?;
    Ok(())
}

fn outcome(r: std::result::Result<(), capnp::Error>) -> String {
    match r {
        Ok(()) => "loaded".to_string(),
        Err(e) => format!("error ({:?}: {})", e.kind, e.extra),
    }
}

async fn echo(executor: &executor::Client) -> std::result::Result<(), capnp::Error> {
    let mut req = executor.echo_request();
    req.get().set_message("ping");
    req.send().promise.await?;
    Ok(())
}

/// Writes a line to the sibling and reads it back.
async fn round_trip(sibling: &process::Client) -> std::result::Result<(), capnp::Error> {
    let stdin = sibling.stdin_request().send().pipeline.get_stream();
    let stdout = sibling.stdout_request().send().pipeline.get_stream();
    let mut req = stdin.write_request();
    req.get().set_data(b"ping\n");
    req.send().await?;
    let mut got = 0;
    while got < 5 {
        let mut req = stdout.read_request();
        req.get().set_max(64);
        let reply = req.send().promise.await?;
        let n = reply.get()?.get_data()?.len();
        if n == 0 {
            return Err(capnp::Error::failed("the sibling's stdout ended".into()));
        }
        got += n;
    }
    Ok(())
}

fn wait_for_line() -> Result<()> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(())
}

async fn bomb(executor: &executor::Client, kib: usize, big_kib: usize) -> Result<()> {
    let runtime = executor.runtime_request().send().pipeline.get_runtime();
    let too_big = module(1, big_kib << 10, 0);
    println!("too-big: {}", outcome(load(&runtime, &too_big).await));

    let sibling = spawn(executor, &["/bin/cat.wasm"], &[], 0, 0).await?;
    round_trip(&sibling).await?;
    println!("sibling: answering");

    let wasm = module(2, kib << 10, 0);
    let mut loading = Box::pin(load(&runtime, &wasm));
    let (mut echoes, mut trips) = (0u32, 0u32);
    let result = loop {
        let other = Box::pin(async {
            echo(executor).await?;
            round_trip(&sibling).await
        });
        match select(loading, other).await {
            Either::Left((result, _)) => break result,
            Either::Right((answered, still)) => {
                answered?;
                echoes += 1;
                trips += 1;
                loading = still;
            }
        }
    };
    println!("bomb: {}", outcome(result));
    println!("while compiling: {echoes} echoes, {trips} sibling round trips");
    println!(
        "after: {}",
        outcome(load(&runtime, &module(3, 64, 0)).await)
    );
    echo(executor).await?;
    round_trip(&sibling).await?;
    println!("node: answering");
    sibling.kill_request().send().promise.await?;
    println!("done");
    wait_for_line()
}

async fn flood(executor: &executor::Client, n: u32) -> Result<()> {
    let runtime = executor.runtime_request().send().pipeline.get_runtime();
    let (mut loaded, mut failed) = (0, 0);
    for seed in 0..n {
        match load(&runtime, &module(seed + 100, 0, 64 << 10)).await {
            Ok(()) => loaded += 1,
            Err(e) => {
                failed += 1;
                eprintln!("flood {seed}: {e}");
            }
        }
    }
    println!("flood: {loaded} loaded, {failed} failed");
    println!("done");
    wait_for_line()
}

async fn stall(executor: &executor::Client, kib: usize) -> Result<()> {
    let runtime = executor.runtime_request().send().pipeline.get_runtime();
    echo(executor).await?;
    let wasm = module(4, kib << 10, 0);
    let started = Instant::now();
    let mut loading = Box::pin(load(&runtime, &wasm));
    let mut longest = 0f64;
    let mut trips = 0u32;
    let result = loop {
        let sent = Instant::now();
        let other = Box::pin(echo(executor));
        match select(loading, other).await {
            Either::Left((result, pending)) => {
                // The echo in flight when the load answered waited too.
                pending.await?;
                longest = longest.max(sent.elapsed().as_secs_f64() * 1e3);
                break result;
            }
            Either::Right((answered, still)) => {
                answered?;
                trips += 1;
                longest = longest.max(sent.elapsed().as_secs_f64() * 1e3);
                loading = still;
            }
        }
    };
    println!(
        "stall: load {} after {:.0} ms; {trips} echoes meanwhile, longest {longest:.1} ms",
        outcome(result),
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

fn main() -> ExitCode {
    ww_guest::run(|membrane| async move {
        let caps = ww_guest::graft(&membrane).await?;
        let executor: executor::Client = caps.get("executor")?;
        let args: Vec<String> = std::env::args().collect();
        let number =
            |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
        match args.get(1).map(String::as_str) {
            Some("bomb") => bomb(&executor, number(2, 1024), number(3, 2048)).await,
            Some("flood") => flood(&executor, number(2, 100) as u32).await,
            Some("stall") => stall(&executor, number(2, 1024)).await,
            other => Err(format!("unknown scenario {other:?}").into()),
        }
    })
}
