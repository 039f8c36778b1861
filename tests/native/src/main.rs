//! `native-cell MODE [ARGS]`: a native cell for the end-to-end tests. It
//! speaks Cap'n Proto to the node over its fd 3 ([`vat`]) and prints
//! `mode: result` lines the tests assert:
//!
//! - `graft`: the graft's epoch and capability names; `quiet`: grafts and
//!   exits without a word (for timing);
//! - `demo`: signs with `identity` and verifies, adds and cats through
//!   `ipfs`;
//! - `env`: its whole environment, sorted; `fds`: reads each `WW_FD_*`
//!   descriptor to its end;
//! - `exit N`; `signal N` (kills itself with signal N); `spin` (CPU, for
//!   ever); `alloc MIB` (allocates and touches MIB MiB, says so); `hang` (waits for ever); `tree MARK [hang]` (starts a
//!   grandchild `hang MARK`, says so, waits for a line of stdin, or with
//!   `hang` for ever);
//! - `garbage`: breaks its vat with a malformed frame, reads fd 3 to its
//!   end, exits 3;
//! - `reach PORT`: what it can reach outside its vat: `/etc/passwd`, and a
//!   TCP listener on 127.0.0.1:PORT (each `open` or `denied`);
//! - `escape`: what a jail must stop, one `escape: WHAT RESULT` line each:
//!   `/root`, a write to `/tmp` and to its scratch directory (`TMPDIR`),
//!   `ptrace` of its parent, and forking until refused (only ever run it
//!   jailed: unjailed it would trace ww and fill the process table);
//! - `caps N`: up to N grafts it never releases; the first refusal;
//! - `children`: native children through `executor` (see [`children`]);
//! - `bench-call N`, `bench-spawn N`: latencies (see [`bench`]).

mod bench;
mod children;
mod vat;

use std::io::{Read, Write};

use capnp::capability::{FromClientHook, Response};
use ww_capnp::identity_capnp::identity;
use ww_capnp::ipfs_capnp::ipfs;
use ww_capnp::membrane_capnp::membrane;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// One graft's answer, kept whole so its exports can be passed on.
pub type Graft = Response<membrane::graft_results::Owned>;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("graft");
    let n = |i: usize| args.get(i).and_then(|a| a.parse::<u32>().ok());
    // Modes without the vat first.
    match mode {
        "env" => return env(),
        "fds" => return fds(),
        "exit" => std::process::exit(n(2).unwrap_or(0) as i32),
        "signal" => {
            // SAFETY: kill(2) has no memory-safety preconditions.
            unsafe { libc::kill(libc::getpid(), n(2).unwrap_or(15) as i32) };
            std::process::exit(99);
        }
        "spin" => spin(),
        "alloc" => return alloc(n(2).unwrap_or(1)),
        "hang" => hang(),
        "tree" => {
            let mark = args.get(2).map_or("tree", String::as_str);
            return tree(mark, args.get(3).is_some_and(|a| a == "hang"));
        }
        "reach" => return reach(args.get(2).map_or("1", String::as_str)),
        "escape" => return escape(),
        "garbage" => return garbage(),
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    let outcome = local.block_on(&runtime, async {
        let membrane = vat::connect()?;
        match mode {
            "graft" => graft_names(&membrane).await,
            "quiet" => graft(&membrane).await.map(drop),
            "demo" => demo(&membrane).await,
            "caps" => caps(&membrane, n(2).unwrap_or(100)).await,
            "children" => children::run(&membrane).await,
            "bench-call" => bench::call(&membrane, n(2).unwrap_or(10_000)).await,
            "bench-spawn" => bench::spawn(&membrane, n(2).unwrap_or(200)).await,
            other => Err(format!("unknown mode {other:?}").into()),
        }
    });
    if let Err(e) = outcome {
        println!("{mode}: error {e}");
        std::process::exit(1);
    }
}

/// `Membrane.graft()`.
pub async fn graft(membrane: &membrane::Client) -> Result<Graft> {
    Ok(membrane.graft_request().send().promise.await?)
}

/// The capability `name` of `graft`, typed.
pub fn cap<C: FromClientHook>(graft: &Graft, name: &str) -> Result<C> {
    for export in graft.get()?.get_caps()? {
        if export.get_name()?.to_str()? == name {
            return Ok(export.get_cap().get_as_capability()?);
        }
    }
    Err(format!("no {name} in the graft").into())
}

async fn graft_names(membrane: &membrane::Client) -> Result<()> {
    let graft = graft(membrane).await?;
    let results = graft.get()?;
    let mut names = Vec::new();
    for export in results.get_caps()? {
        names.push(export.get_name()?.to_string()?);
    }
    println!(
        "graft: epoch {}, caps {}",
        results.get_epoch()?.get_seq(),
        names.join(" ")
    );
    Ok(())
}

async fn demo(membrane: &membrane::Client) -> Result<()> {
    let graft = graft(membrane).await?;
    let epoch = graft.get()?.get_epoch()?.get_seq();
    let identity: identity::Client = cap(&graft, "identity")?;
    let key = identity.public_key_request().send().promise.await?;
    let key = key.get()?.get_key()?.to_vec();
    let domain = "ww/native-cell";
    let mut request = identity.signer_request();
    request.get().set_domain(domain);
    let signer = request.send().pipeline.get_signer();
    let nonce = b"a native nonce";
    let mut request = signer.sign_request();
    request.get().set_nonce(nonce);
    request.get().set_epoch_seq(epoch);
    let signed = request.send().promise.await?;
    let signature = signed.get()?.get_signature()?.to_vec();
    let mut data = domain.as_bytes().to_vec();
    data.push(0);
    data.extend_from_slice(nonce);
    data.extend_from_slice(&epoch.to_be_bytes());
    let mut request = identity.verify_request();
    request.get().set_data(&data);
    request.get().set_signature(&signature);
    request.get().set_public_key(&key);
    let valid = request.send().promise.await?.get()?.get_valid();
    println!(
        "demo: key {} bytes, signature {} bytes, valid {valid}",
        key.len(),
        signature.len()
    );
    let ipfs: ipfs::Client = cap(&graft, "ipfs")?;
    let fs = ipfs.unixfs_request().send().pipeline.get_api();
    let mut request = fs.add_request();
    request.get().set_data(b"hello from a native cell\n");
    let added = request.send().promise.await?;
    let cid = added.get()?.get_cid()?.to_string()?;
    let mut request = fs.cat_request();
    request.get().set_path(&cid);
    let read = request.send().promise.await?;
    let text = String::from_utf8_lossy(read.get()?.get_data()?).into_owned();
    println!("demo: added {cid}, cat {:?}", text);
    Ok(())
}

async fn caps(membrane: &membrane::Client, count: u32) -> Result<()> {
    let mut held = Vec::new();
    for i in 0..count {
        match graft(membrane).await {
            Ok(graft) => held.push(graft),
            Err(e) => {
                println!("caps: refused after {i} grafts: {e}");
                return Ok(());
            }
        }
    }
    println!("caps: all {count} grafts granted");
    Ok(())
}

fn alloc(mib: u32) {
    let mut held: Vec<Vec<u8>> = Vec::new();
    for _ in 0..mib {
        // Touched, so the memory is really used.
        held.push(vec![1u8; 1 << 20]);
    }
    println!("alloc: {} MiB", held.len());
}

fn env() {
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    for (k, v) in vars {
        println!("env: {k}={v}");
    }
}

fn fds() {
    let mut names: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("WW_FD_"))
        .collect();
    names.sort();
    for (name, number) in names {
        let Ok(fd) = number.parse::<i32>() else {
            println!("fds: {name}={number} is not a number");
            continue;
        };
        // SAFETY: the node passed this descriptor for the cell to own.
        let mut file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        let mut text = String::new();
        match file.read_to_string(&mut text) {
            Ok(_) => println!("fds: {name}={fd} {:?}", text),
            Err(e) => println!("fds: {name}={fd} error {e}"),
        }
    }
}

fn spin() -> ! {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

fn hang() -> ! {
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

// The grandchild is left running on purpose: the node must end it.
#[allow(clippy::zombie_processes)]
fn tree(mark: &str, then_hang: bool) {
    let me = std::env::current_exe().expect("own path");
    let _child = std::process::Command::new(me)
        .args(["hang", mark])
        .spawn()
        .expect("spawn the grandchild");
    println!("tree: grandchild started");
    let _ = std::io::stdout().flush();
    if then_hang {
        hang();
    }
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

fn reach(port: &str) {
    let passwd = match std::fs::read_to_string("/etc/passwd") {
        Ok(_) => "open".to_string(),
        Err(e) => format!("denied ({e})"),
    };
    let tcp = match std::net::TcpStream::connect(format!("127.0.0.1:{port}")) {
        Ok(_) => "open".to_string(),
        Err(e) => format!("denied ({e})"),
    };
    println!("reach: passwd {passwd}");
    println!("reach: tcp {tcp}");
}

fn escape() {
    let said = |r: std::io::Result<()>| match r {
        Ok(()) => "open".to_string(),
        Err(e) => format!("denied ({e})"),
    };
    println!(
        "escape: /root {}",
        said(std::fs::read_dir("/root").map(drop))
    );
    let outside = format!("/tmp/ww-escape-{}", std::process::id());
    println!("escape: write /tmp {}", said(std::fs::write(&outside, "x")));
    let scratch = std::env::var("TMPDIR").unwrap_or_default();
    let inside = std::path::Path::new(&scratch).join("note");
    println!(
        "escape: write scratch {}",
        said(std::fs::write(inside, "x"))
    );
    // SAFETY: PTRACE_ATTACH takes no pointer; a success is undone at once.
    let traced = unsafe {
        let parent = libc::getppid();
        let r = libc::ptrace(libc::PTRACE_ATTACH, parent, 0, 0);
        if r == 0 {
            libc::ptrace(libc::PTRACE_DETACH, parent, 0, 0);
        }
        r
    };
    println!(
        "escape: ptrace parent {}",
        match traced {
            0 => "open".to_string(),
            _ => format!("denied ({})", std::io::Error::last_os_error()),
        }
    );
    let mut children = Vec::new();
    let refused = loop {
        // SAFETY: the child only waits for a signal, then dies of it.
        match unsafe { libc::fork() } {
            -1 => break std::io::Error::last_os_error(),
            0 => loop {
                // SAFETY: waits for a signal.
                unsafe { libc::pause() };
            },
            pid => children.push(pid),
        }
        if children.len() >= 10_000 {
            break std::io::Error::other("never refused");
        }
    };
    for pid in &children {
        // SAFETY: our own children.
        unsafe {
            libc::kill(*pid, libc::SIGKILL);
            libc::waitpid(*pid, std::ptr::null_mut(), 0);
        }
    }
    println!("escape: fork refused after {} ({refused})", children.len());
}

fn garbage() {
    // SAFETY: the Cell API gives the cell fd 3 to own.
    let mut socket: std::os::unix::net::UnixStream =
        unsafe { std::os::fd::FromRawFd::from_raw_fd(vat::RPC_FD) };
    // A segment table claiming 2^32 - 1 segments: no valid frame.
    let _ = socket.write_all(&[0xff; 64]);
    let mut rest = Vec::new();
    let end = match socket.read_to_end(&mut rest) {
        Ok(_) => "vat closed".to_string(),
        Err(e) => format!("vat closed ({e})"),
    };
    println!("garbage: {end}");
    std::process::exit(3);
}
