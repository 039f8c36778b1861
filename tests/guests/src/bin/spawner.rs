//! A parent cell for the executor tests; argv[1] picks the scenario and each
//! prints `name: result` lines the tests assert:
//!
//! - `stdio`: a child's stdin, stdout, stderr and exit status;
//! - `attenuate`: a child given only `executor` lists exactly that;
//! - `limits`: a CPU hog and a memory hog are stopped, a sibling finishes;
//! - `kill`: a killed child exits 137;
//! - `errors`: missing and non-wasm paths fail clearly;
//! - `bootstrap`: the capability a child exports back;
//! - `p1`: a WASI P1 core module runs as a child;
//! - `cycles N M`: N spawn/kill cycles, `warm`, a line of stdin, M more,
//!   `done`, a line of stdin (the test samples the node's memory between);
//! - `epoch`: a process of the old epoch fails stale after a revocation;
//! - `load`: `Runtime.load` of raw bytes, a child with no file system;
//! - `count`: the per-executor cap on live children;
//! - `kill-sibling`: kill one of two live children;
//! - `fair N MS`: CPU shares follow the tree: a lone spinner with a CPU
//!   budget of MS ms, then a child `swarm N` (itself, with the executor)
//!   beside it; once the lone one is stopped (124), the swarm stops its
//!   spinners and says how much CPU they used together;
//! - `swarm N`: N spinners with no budget; on a line of stdin, kills them
//!   and prints `swarm: N spinners used T ms` (their CPU time together);
//! - `hold N`: N spinners with no budget, held for good (`holding N
//!   spinners` once all run);
//! - `kill-spinners`: three busy children with no CPU budget; kill each in
//!   turn (killing one must not stall the others or the node);
//! - `kill-after-refusal`: (with `--config max-children=2`) two idle
//!   children, a third refused, then kill both;
//! - `host-work N MS`: a child (`bench-call N`, given `identity`) whose
//!   own code does little but whose calls make the node work, with a CPU
//!   budget of MS ms; prints `host-work: exit S, cpu T ms`;
//! - `hogs N FILL LIMIT`: memory-hungry children against the node's memory
//!   budget: a child asking for more than a cell may have is refused; an
//!   idle sibling; then up to N balloons with a limit of LIMIT MiB (0: the
//!   node's default) each holding FILL MiB, until a spawn is refused (then
//!   ten more attempts); `full K`, a line of stdin (the test samples the
//!   node's memory); each hog let go runs into its limit; the sibling
//!   still answers; a spawn with the hogs' limit fits again; `done`, a line
//!   of stdin.

use std::process::ExitCode;

use ww_capnp::system_capnp::{byte_stream, executor, process};
use ww_guest::Caps;
use ww_test_guests::{ready_then_wait, report_stale, spawn};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

async fn stream(
    p: &process::Client,
    which: &str,
) -> std::result::Result<byte_stream::Client, capnp::Error> {
    Ok(match which {
        "stdin" => p
            .stdin_request()
            .send()
            .promise
            .await?
            .get()?
            .get_stream()?,
        "stdout" => p
            .stdout_request()
            .send()
            .promise
            .await?
            .get()?
            .get_stream()?,
        _ => p
            .stderr_request()
            .send()
            .promise
            .await?
            .get()?
            .get_stream()?,
    })
}

/// Ends a child's stdin, so a child reading it to the end can finish.
async fn close_stdin(p: &process::Client) -> std::result::Result<(), capnp::Error> {
    stream(p, "stdin")
        .await?
        .close_request()
        .send()
        .promise
        .await?;
    Ok(())
}

async fn read_all(s: &byte_stream::Client) -> std::result::Result<String, capnp::Error> {
    let mut out = Vec::new();
    loop {
        let mut req = s.read_request();
        req.get().set_max(64 * 1024);
        let reply = req.send().promise.await?;
        let data = reply.get()?.get_data()?;
        if data.is_empty() {
            return Ok(String::from_utf8_lossy(&out).into_owned());
        }
        out.extend_from_slice(data);
    }
}

async fn wait(p: &process::Client) -> std::result::Result<i32, capnp::Error> {
    Ok(wait_cpu(p).await?.0)
}

/// The exit status, and the CPU time in ms the child's own code used.
async fn wait_cpu(p: &process::Client) -> std::result::Result<(i32, f64), capnp::Error> {
    let reply = p.wait_request().send().promise.await?;
    let r = reply.get()?;
    Ok((r.get_exit_code(), r.get_cpu_micros() as f64 / 1000.0))
}

async fn stdio(executor: &executor::Client) -> Result<()> {
    let child = spawn(executor, &["/bin/upcase.wasm", "7"], &[], 0, 0).await?;
    let stdin = stream(&child, "stdin").await?;
    let mut req = stdin.write_request();
    req.get().set_data(b"hello child\n");
    req.send().await?;
    stdin.close_request().send().promise.await?;
    let out = read_all(&stream(&child, "stdout").await?).await?;
    let err = read_all(&stream(&child, "stderr").await?).await?;
    println!("stdout: {}", out.trim_end());
    println!("stderr: {}", err.trim_end());
    println!("exit: {}", wait(&child).await?);
    Ok(())
}

async fn attenuate(executor: &executor::Client, caps: &Caps) -> Result<()> {
    let only = caps
        .iter()
        .find(|c| c.name() == "executor")
        .ok_or("no executor in the graft")?;
    let child = spawn(executor, &["/bin/kernel.wasm"], &[only], 0, 0).await?;
    // The kernel reads commands from its stdin until it ends.
    close_stdin(&child).await?;
    let out = read_all(&stream(&child, "stdout").await?).await?;
    for line in out.lines() {
        println!("child: {line}");
    }
    println!("exit: {}", wait(&child).await?);
    Ok(())
}

async fn limits(executor: &executor::Client) -> Result<()> {
    let spin = spawn(executor, &["/bin/spin.wasm"], &[], 0, 300).await?;
    let balloon = spawn(executor, &["/bin/balloon.wasm"], &[], 32 << 20, 0).await?;
    let sibling = spawn(executor, &["/bin/upcase.wasm"], &[], 0, 0).await?;
    let stdin = stream(&sibling, "stdin").await?;
    let mut req = stdin.write_request();
    req.get().set_data(b"still here");
    req.send().await?;
    stdin.close_request().send().promise.await?;
    let out = read_all(&stream(&sibling, "stdout").await?).await?;
    println!("sibling: {} {}", wait(&sibling).await?, out);
    println!("balloon: {}", wait(&balloon).await?);
    println!("spin: {}", wait(&spin).await?);
    Ok(())
}

async fn kill(executor: &executor::Client) -> Result<()> {
    let spin = spawn(executor, &["/bin/spin.wasm"], &[], 0, 0).await?;
    spin.kill_request().send().promise.await?;
    println!("killed: {}", wait(&spin).await?);
    Ok(())
}

async fn errors(executor: &executor::Client) -> Result<()> {
    for path in ["/bin/nope.wasm", "/etc/not-wasm", "/../escape.wasm"] {
        match spawn(executor, &[path], &[], 0, 0).await {
            Ok(p) => println!("{path}: spawned, exit {}", wait(&p).await?),
            Err(e) => println!("{path}: error ({e})"),
        }
    }
    // Imports the host does not provide: the child cannot start (126).
    let p = spawn(executor, &["/bin/alien.wasm"], &[], 0, 0).await?;
    let err = read_all(&stream(&p, "stderr").await?).await?;
    println!("/bin/alien.wasm: exit {} {}", wait(&p).await?, err.trim());
    Ok(())
}

async fn bootstrap(executor: &executor::Client) -> Result<()> {
    let child = spawn(executor, &["/bin/exporter.wasm"], &[], 0, 0).await?;
    let exported = child.bootstrap_request().send().promise.await?;
    let echo: executor::Client = exported.get()?.get_cap().get_as_capability()?;
    let mut req = echo.echo_request();
    req.get().set_message("ping");
    let reply = req.send().promise.await?;
    println!("bootstrap: {}", reply.get()?.get_response()?.to_str()?);
    child.kill_request().send().promise.await?;
    println!("exit: {}", wait(&child).await?);
    Ok(())
}

async fn p1(executor: &executor::Client) -> Result<()> {
    let child = spawn(executor, &["/bin/p1.wasm"], &[], 0, 0).await?;
    let out = read_all(&stream(&child, "stdout").await?).await?;
    println!("p1: {} {}", wait(&child).await?, out.trim());
    Ok(())
}

async fn cycles(executor: &executor::Client, warm: usize, more: usize) -> Result<()> {
    for n in [warm, more] {
        for _ in 0..n {
            let p = spawn(executor, &["/bin/upcase.wasm"], &[], 0, 0).await?;
            p.kill_request().send().promise.await?;
            wait(&p).await?;
        }
        println!("{}", if n == warm { "warm" } else { "done" });
        ready_then_wait()?;
    }
    Ok(())
}

async fn load(executor: &executor::Client) -> Result<()> {
    // Raw bytes (here read from the image, as a parent could get them from
    // anywhere), compiled once; the child gets no file system at all.
    let wasm = std::fs::read("/bin/sandbox.wasm")?;
    let runtime = executor.runtime_request().send().pipeline.get_runtime();
    let mut req = runtime.load_request();
    req.get().set_wasm(&wasm);
    let bound = req.send().pipeline.get_executor();
    let mut req = bound.spawn_request();
    req.get().init_args(1).set(0, "sandbox");
    req.get().set_root("");
    let child = req.send().promise.await?.get()?.get_process()?;
    let out = read_all(&stream(&child, "stdout").await?).await?;
    for line in out.lines().filter(|l| l.starts_with("read-image")) {
        println!("loaded child: {line}");
    }
    println!("exit: {}", wait(&child).await?);
    let mut req = runtime.load_request();
    req.get().set_wasm(b"not wasm at all");
    match req.send().promise.await {
        Ok(_) => println!("garbage: loaded"),
        Err(e) => println!("garbage: error ({e})"),
    }
    Ok(())
}

async fn count(executor: &executor::Client) -> Result<()> {
    // The node runs this with `--config max-children=2`. Idle children
    // (blocked reading stdin) hold their slots; closing a child's stdin lets
    // it exit by itself, which frees its slot.
    let mut held = Vec::new();
    for i in 1..=3 {
        match spawn(executor, &["/bin/upcase.wasm"], &[], 0, 0).await {
            Ok(p) => {
                println!("child {i}: running");
                held.push(p);
            }
            Err(e) => println!("child {i}: refused ({e})"),
        }
    }
    for p in &held {
        close_stdin(p).await?;
        wait(p).await?;
    }
    // The executor learns of the exits through its own waits on them.
    match spawn_retrying(executor, &["/bin/upcase.wasm"]).await {
        Ok(p) => {
            close_stdin(&p).await?;
            println!("after exit: spawned, exit {}", wait(&p).await?);
        }
        Err(e) => println!("after exit: refused ({e})"),
    }
    Ok(())
}

/// Spawns `args`, retrying (a bounded number of times) while the executor
/// refuses for its child limit: it learns of exits through its own waits.
async fn spawn_retrying(
    executor: &executor::Client,
    args: &[&str],
) -> std::result::Result<process::Client, capnp::Error> {
    let mut attempts = 0;
    loop {
        match spawn(executor, args, &[], 0, 0).await {
            Ok(p) => return Ok(p),
            Err(e) if attempts < 100 && e.kind == capnp::ErrorKind::Overloaded => {
                attempts += 1;
                // Give the executor's exit watchers a turn.
                executor.echo_request().send().promise.await?;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn kill_sibling(executor: &executor::Client) -> Result<()> {
    // Two live children; kill one, then let the other finish by itself.
    let a = spawn(executor, &["/bin/upcase.wasm"], &[], 0, 0).await?;
    let b = spawn(executor, &["/bin/upcase.wasm"], &[], 0, 0).await?;
    for p in [&a, &b] {
        stream(p, "stdin").await?;
    }
    a.kill_request().send().promise.await?;
    println!("killed: {}", wait(&a).await?);
    close_stdin(&b).await?;
    println!("sibling: {}", wait(&b).await?);
    Ok(())
}

async fn fair(executor: &executor::Client, caps: &Caps, n: usize, ms: u64) -> Result<()> {
    let only = caps
        .iter()
        .find(|c| c.name() == "executor")
        .ok_or("no executor in the graft")?;
    let n = n.to_string();
    // The lone one first: the swarm's spinners never run before it exists
    // (CPU nobody else wanted would count for them), the lone one may.
    let lone = spawn(executor, &["/bin/spin.wasm"], &[], 0, ms).await?;
    let swarm = spawn(executor, &["/bin/spawner.wasm", "swarm", &n], &[only], 0, 0).await?;
    let (status, used) = wait_cpu(&lone).await?;
    println!("lone: {status} after {used:.0} ms");
    let stdin = stream(&swarm, "stdin").await?;
    let mut req = stdin.write_request();
    req.get().set_data(b"stop\n");
    req.send().await?;
    let out = read_all(&stream(&swarm, "stdout").await?).await?;
    print!("{out}");
    println!("swarm exit: {}", wait(&swarm).await?);
    Ok(())
}

async fn swarm(executor: &executor::Client, n: usize) -> Result<()> {
    let mut spinners = Vec::new();
    for _ in 0..n {
        spinners.push(spawn(executor, &["/bin/spin.wasm"], &[], 0, 0).await?);
    }
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::stdin().lock(), &mut line)?;
    let mut used = 0.0;
    for p in &spinners {
        p.kill_request().send().promise.await?;
        used += wait_cpu(p).await?.1;
    }
    println!(
        "swarm: {n} spinners used {used:.0} ms (asked to {})",
        line.trim()
    );
    Ok(())
}

async fn hold(executor: &executor::Client, n: usize) -> Result<()> {
    let mut spinners = Vec::new();
    for _ in 0..n {
        spinners.push(spawn(executor, &["/bin/spin.wasm"], &[], 0, 0).await?);
    }
    println!("holding {n} spinners");
    for p in &spinners {
        wait(p).await?;
    }
    Ok(())
}

async fn kill_spinners(executor: &executor::Client) -> Result<()> {
    let mut spinners = Vec::new();
    for _ in 0..3 {
        spinners.push(spawn(executor, &["/bin/spin.wasm"], &[], 0, 0).await?);
    }
    // The survivors still run: each answers for its stdin stream while the
    // node keeps scheduling the others.
    for (i, p) in spinners.iter().enumerate() {
        p.kill_request().send().promise.await?;
        println!("spinner {i}: {}", wait(p).await?);
        for q in &spinners[i + 1..] {
            stream(q, "stdin").await?;
        }
    }
    println!("spinners: done");
    Ok(())
}

/// The first line `s` gives (without its newline), or all of it at its end.
async fn read_line(s: &byte_stream::Client) -> std::result::Result<String, capnp::Error> {
    let mut out = Vec::new();
    while !out.contains(&b'\n') {
        let mut req = s.read_request();
        req.get().set_max(1024);
        let reply = req.send().promise.await?;
        let data = reply.get()?.get_data()?;
        if data.is_empty() {
            break;
        }
        out.extend_from_slice(data);
    }
    Ok(String::from_utf8_lossy(&out).trim_end().to_string())
}

async fn hogs(executor: &executor::Client, max: usize, fill: u64, limit_mib: u64) -> Result<()> {
    let limit = limit_mib << 20;
    // More than any one cell may have (an instance slot is 256 MiB).
    match spawn(executor, &["/bin/balloon.wasm"], &[], 512 << 20, 0).await {
        Ok(p) => println!("too big: spawned, exit {}", wait(&p).await?),
        Err(e) => println!("too big: {:?} {e}", e.kind),
    }
    let sibling = spawn(executor, &["/bin/upcase.wasm"], &[], 0, 0).await?;
    let fill = fill.to_string();
    let args = ["/bin/balloon.wasm", fill.as_str()];
    let mut held = Vec::new();
    for i in 1..=max {
        match spawn(executor, &args, &[], limit, 0).await {
            Ok(p) => {
                let line = read_line(&stream(&p, "stdout").await?).await?;
                if line != "full" {
                    return Err(format!("hog {i} said {line:?}, not full").into());
                }
                held.push(p);
            }
            Err(e) => {
                println!("refused {i}: {:?} {e}", e.kind);
                // Hammering a full budget is refused each time.
                let mut again = 0;
                for _ in 0..10 {
                    if spawn(executor, &args, &[], limit, 0).await.is_err() {
                        again += 1;
                    }
                }
                println!("refused again: {again}");
                break;
            }
        }
    }
    println!("full {}", held.len());
    ready_then_wait()?;
    for (i, p) in held.iter().enumerate() {
        close_stdin(p).await?;
        println!("hog {}: {}", i + 1, wait(p).await?);
    }
    let stdin = stream(&sibling, "stdin").await?;
    let mut req = stdin.write_request();
    req.get().set_data(b"still here");
    req.send().await?;
    stdin.close_request().send().promise.await?;
    let out = read_all(&stream(&sibling, "stdout").await?).await?;
    println!("sibling: {} {}", wait(&sibling).await?, out);
    // The hogs' reservations come back as their tasks end.
    let p = spawn_with_room(executor, &["/bin/upcase.wasm"], limit).await?;
    close_stdin(&p).await?;
    println!("after hogs: exit {}", wait(&p).await?);
    println!("done");
    ready_then_wait()?;
    Ok(())
}

/// Spawns `args` with a memory limit, retrying (a bounded number of times)
/// while the node refuses it for its memory budget: a killed or exited
/// child's reservation is released when its task ends, a moment after its
/// parent learns of the exit.
async fn spawn_with_room(
    executor: &executor::Client,
    args: &[&str],
    memory: u64,
) -> std::result::Result<process::Client, capnp::Error> {
    let mut attempts = 0;
    loop {
        match spawn(executor, args, &[], memory, 0).await {
            Ok(p) => return Ok(p),
            Err(e) if attempts < 100 && e.kind == capnp::ErrorKind::Overloaded => {
                attempts += 1;
                executor.echo_request().send().promise.await?;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn kill_after_refusal(executor: &executor::Client) -> Result<()> {
    let mut held = Vec::new();
    for i in 1..=3 {
        match spawn(executor, &["/bin/upcase.wasm"], &[], 0, 0).await {
            Ok(p) => held.push(p),
            Err(e) => println!("child {i}: refused ({:?})", e.kind),
        }
    }
    for (i, p) in held.iter().enumerate() {
        p.kill_request().send().promise.await?;
        println!("child {}: {}", i + 1, wait(p).await?);
    }
    // Both slots are free again once the executor sees the exits.
    let p = spawn_retrying(executor, &["/bin/upcase.wasm"]).await?;
    close_stdin(&p).await?;
    println!("after kills: exit {}", wait(&p).await?);
    Ok(())
}

async fn epoch(executor: &executor::Client) -> Result<()> {
    let child = spawn(executor, &["/bin/exporter.wasm"], &[], 0, 0).await?;
    ready_then_wait()?;
    let ok = report_stale("process", child.kill_request().send().promise.await)
        & report_stale("executor", executor.echo_request().send().promise.await);
    if ok {
        Ok(())
    } else {
        Err("old capabilities still work".into())
    }
}

async fn host_work(executor: &executor::Client, caps: &Caps, calls: usize, ms: u64) -> Result<()> {
    let identity = caps
        .iter()
        .find(|c| c.name() == "identity")
        .ok_or("no identity in the graft")?;
    let calls = calls.to_string();
    let child = spawn(
        executor,
        &["/bin/bench-call.wasm", &calls],
        &[identity],
        0,
        ms,
    )
    .await?;
    let (status, used) = wait_cpu(&child).await?;
    println!("host-work: exit {status}, cpu {used:.0} ms");
    Ok(())
}

fn main() -> ExitCode {
    ww_guest::run(|membrane| async move {
        let caps = ww_guest::graft(&membrane).await?;
        let executor: executor::Client = caps.get("executor")?;
        let mut args: Vec<String> = std::env::args().collect();
        // Run as a kernel's service (no argv): the words of /etc/scenario.
        if args.len() < 2 {
            if let Ok(words) = std::fs::read_to_string("/etc/scenario") {
                args.extend(words.split_whitespace().map(String::from));
            }
        }
        let number = |i: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(10);
        match args.get(1).map(String::as_str) {
            Some("stdio") => stdio(&executor).await,
            Some("attenuate") => attenuate(&executor, &caps).await,
            Some("limits") => limits(&executor).await,
            Some("kill") => kill(&executor).await,
            Some("errors") => errors(&executor).await,
            Some("bootstrap") => bootstrap(&executor).await,
            Some("p1") => p1(&executor).await,
            Some("cycles") => cycles(&executor, number(2), number(3)).await,
            Some("epoch") => epoch(&executor).await,
            Some("load") => load(&executor).await,
            Some("count") => count(&executor).await,
            Some("kill-sibling") => kill_sibling(&executor).await,
            Some("fair") => fair(&executor, &caps, number(2), number(3) as u64).await,
            Some("swarm") => swarm(&executor, number(2)).await,
            Some("hold") => hold(&executor, number(2)).await,
            Some("kill-spinners") => kill_spinners(&executor).await,
            Some("kill-after-refusal") => kill_after_refusal(&executor).await,
            Some("host-work") => host_work(&executor, &caps, number(2), number(3) as u64).await,
            Some("hogs") => hogs(&executor, number(2), number(3) as u64, number(4) as u64).await,
            other => Err(format!("unknown scenario {other:?}").into()),
        }
    })
}
