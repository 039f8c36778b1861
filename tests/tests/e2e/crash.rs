//! Crash safety of the IPFS store: `ww push` (a directory add), a node's
//! single and streamed adds, and a node's Bitswap fetches are killed with
//! SIGKILL at random points, over and over, on one data directory. Then
//! `ww check` finds it clean, and a restarted node serves every pin whole
//! and every add or pin that answered.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ww_tests::*;

use crate::ipfs::{content, sum};

/// Kills in all: half during `ww push`, half during a node's adds.
const KILLS: u64 = 120;

/// Where the random kill points come from (xorshift64, fixed: a failure
/// can be replayed).
const SEED: u64 = 0x5eed_cafe_f00d_0017;

/// Kills during a pin that fetches its DAG from a peer over Bitswap.
const FETCH_KILLS: u64 = 50;

/// Bytes of the file each push and each streamed add brings anew.
const BIG: usize = 1 << 20;

struct Rng(u64);

impl Rng {
    /// A point in `[0, scale * 1.25)`: mostly during the work, some after.
    fn delay(&mut self, scale: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let span = scale.as_micros() as u64 * 5 / 4 + 1;
        Duration::from_micros(self.0 % span)
    }
}

/// What an add that answered must read back as.
enum Expect {
    /// A file with these bytes.
    File(Vec<u8>),
    /// A pushed tree of iteration N (see [`write_tree`]).
    Tree(u64),
}

/// The tree pushed in iteration `n`: new bytes each time, plus what every
/// push shares.
fn write_tree(dir: &Path, n: u64) {
    std::fs::create_dir_all(dir.join("sub/empty")).unwrap();
    std::fs::write(dir.join("id"), n.to_string()).unwrap();
    std::fs::write(dir.join("big.bin"), content(BIG, 1000 + n)).unwrap();
    std::fs::write(dir.join("sub/shared.txt"), "the same in every push").unwrap();
}

/// `ww push TREE --data-dir DATA`, killed after `delay` when given; the CID
/// when it finished first. Returns whether the kill found it running.
fn push(tree: &Path, data: &Path, delay: Option<Duration>) -> (Option<String>, bool) {
    let mut child = Command::new(ww())
        .arg("push")
        .arg(tree)
        .arg("--data-dir")
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ww push");
    let mut interrupted = false;
    if let Some(delay) = delay {
        std::thread::sleep(delay);
        interrupted = child.try_wait().expect("try_wait").is_none();
        kill(child.id(), libc::SIGKILL);
    }
    let out = child.wait_with_output().expect("wait");
    if out.status.success() {
        return (Some(text(&out.stdout).trim().to_string()), interrupted);
    }
    assert!(
        delay.is_some() && out.status.code().is_none(),
        "ww push failed on its own:\n{}",
        text(&out.stderr)
    );
    (None, interrupted)
}

/// The `ipfs-cmd` guest on a node over `data`.
fn node(data: &Path, image: &Path) -> Running {
    let mut run = Running::start(
        ww_run(&ww())
            .arg("--data-dir")
            .arg(data)
            .args(["--config", "ipfs-fetch-timeout=5"])
            .arg(image),
    );
    run.wait_for(Stream::Stdout, "ready");
    run
}

/// The adds of node iteration `n`: single and streamed, each answered
/// `add: CID` / `gen: CID` when pinned.
fn node_adds(n: u64) -> Vec<(String, Vec<u8>)> {
    let text = |k: u64| format!("crash-{n}-{k}");
    vec![
        (format!("add {}", text(0)), text(0).into_bytes()),
        (format!("gen {BIG} {}", 2000 + n), content(BIG, 2000 + n)),
        (format!("add {}", text(1)), text(1).into_bytes()),
        (
            format!("gen 300000 {}", 3000 + n),
            content(300_000, 3000 + n),
        ),
    ]
}

/// Asks the node `command`; its answer.
fn ask(run: &mut Running, command: &str) -> String {
    let name = command.split(' ').next().unwrap();
    run.send_line(command);
    let prefix = format!("{name}: ");
    let line = run.wait_for(Stream::Stdout, &prefix);
    line.strip_prefix(&prefix).unwrap_or(&line).to_string()
}

/// Reads every file under `path` through the node (a directory walked
/// with `ls`), failing on any error.
fn read_whole(run: &mut Running, path: &str) {
    let listing = ask(run, &format!("ls {path}"));
    if !listing.starts_with("error") {
        for entry in listing.split(' ').filter(|e| !e.is_empty()) {
            let name = entry.split(':').next().unwrap();
            read_whole(run, &format!("{path}/{name}"));
        }
        return;
    }
    assert!(listing.contains("not a directory"), "{path}: {listing}");
    let summed = ask(run, &format!("sum {path}"));
    assert!(!summed.starts_with("error"), "{path}: {summed}");
}

#[test]
fn adds_killed_at_random_points_leave_a_store_that_checks_clean_and_serves_every_pin() {
    let data = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    let image = image("ipfs-cmd");
    let mut rng = Rng(SEED);
    let mut answered: BTreeMap<String, Expect> = BTreeMap::new();
    let mut interrupted = 0;
    eprintln!("kill points from seed {SEED:#x}");

    // How long each kind of work takes here, from one uninterrupted run:
    // the scale of the kill points (nothing is asserted about it).
    write_tree(tree.path(), 0);
    let started = Instant::now();
    let (cid, _) = push(tree.path(), data.path(), None);
    let push_scale = started.elapsed();
    answered.insert(cid.unwrap(), Expect::Tree(0));
    let mut run = node(data.path(), image.path());
    let started = Instant::now();
    for (command, bytes) in node_adds(0) {
        let cid = ask(&mut run, &command);
        answered.insert(cid, Expect::File(bytes));
    }
    let node_scale = started.elapsed();
    kill(run.pid(), libc::SIGKILL);
    run.finish();

    for n in 1..=KILLS {
        if n % 2 == 0 {
            write_tree(tree.path(), n);
            let (cid, hit) = push(tree.path(), data.path(), Some(rng.delay(push_scale)));
            interrupted += usize::from(hit);
            if let Some(cid) = cid {
                answered.insert(cid, Expect::Tree(n));
            }
        } else {
            let mut run = node(data.path(), image.path());
            let adds = node_adds(n);
            for (command, _) in &adds {
                run.send_line(command);
            }
            std::thread::sleep(rng.delay(node_scale));
            kill(run.pid(), libc::SIGKILL);
            let (status, stdout, stderr) = run.finish();
            assert_eq!(status.code(), None, "{}", stderr.join("\n"));
            assert_no_panic(&stderr.join("\n"));
            // Answers come in order: the first k adds are pinned.
            let cids = stdout
                .iter()
                .filter_map(|l| l.strip_prefix("add: ").or(l.strip_prefix("gen: ")));
            let done = cids.clone().count();
            interrupted += usize::from(done < adds.len());
            for (cid, (_, bytes)) in cids.zip(adds) {
                assert!(!cid.starts_with("error"), "{cid}");
                answered.insert(cid.to_string(), Expect::File(bytes));
            }
        }
    }
    assert!(interrupted > 0, "no kill landed during an add");
    eprintln!(
        "{KILLS} kills, {interrupted} during an add, {} adds answered",
        answered.len()
    );

    // The check finds no damage (only leftovers of the killed writers).
    let checked = output(
        Command::new(ww())
            .arg("check")
            .arg("--data-dir")
            .arg(data.path()),
    );
    assert_exit(&checked, 0);
    eprint!("{}", text(&checked.stdout));
    assert!(
        text(&checked.stdout).contains("clean"),
        "{}",
        text(&checked.stdout)
    );
    let repaired = output(
        Command::new(ww())
            .args(["check", "--repair", "--data-dir"])
            .arg(data.path()),
    );
    assert_exit(&repaired, 0);
    assert!(
        text(&repaired.stdout).ends_with("clean\n"),
        "{}",
        text(&repaired.stdout)
    );
    let tmp = data.path().join("ipfs/tmp");
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "leftovers in {tmp:?}"
    );

    // A restarted node serves every add that answered, byte-exact, and
    // every pin whole (also those whose answer the kill cut off).
    let mut run = node(data.path(), image.path());
    for (cid, expect) in &answered {
        match expect {
            Expect::File(bytes) => {
                assert_eq!(ask(&mut run, &format!("sum /ipfs/{cid}")), sum(bytes))
            }
            Expect::Tree(n) => {
                assert_eq!(ask(&mut run, &format!("cat /ipfs/{cid}/id")), n.to_string());
                assert_eq!(
                    ask(&mut run, &format!("sum /ipfs/{cid}/big.bin")),
                    sum(&content(BIG, 1000 + n))
                );
            }
        }
    }
    for pin in std::fs::read_dir(data.path().join("ipfs/pins")).unwrap() {
        let pin = pin.unwrap().file_name().to_string_lossy().into_owned();
        read_whole(&mut run, &format!("/ipfs/{pin}"));
    }
    run.send_line("quit");
    let (status, _, stderr) = run.finish();
    assert!(status.success(), "{}", stderr.join("\n"));
}

/// `ADDR/p2p/ID` of a node, for another to connect to.
fn tcp_addr(run: &mut Running) -> String {
    let id = ask(run, "id");
    let addrs = ask(run, "addrs");
    let addr = addrs
        .split(' ')
        .find(|a| a.contains("/tcp/"))
        .unwrap_or_else(|| panic!("no tcp address in {addrs:?}"));
    format!("{addr}/p2p/{id}")
}

/// A node whose store must be checked and served back after `check`.
fn check_and_serve(data: &Path, image: &Path, answered: &BTreeMap<String, Vec<u8>>) {
    let checked = output(Command::new(ww()).arg("check").arg("--data-dir").arg(data));
    assert_exit(&checked, 0);
    eprint!("{}", text(&checked.stdout));
    assert!(
        text(&checked.stdout).contains("clean"),
        "{}",
        text(&checked.stdout)
    );
    // Alone (no peer to fetch from): every pin must be whole here.
    let mut run = node(data, image);
    for (cid, bytes) in answered {
        assert_eq!(ask(&mut run, &format!("sum /ipfs/{cid}")), sum(bytes));
    }
    for pin in std::fs::read_dir(data.join("ipfs/pins")).unwrap() {
        let pin = pin.unwrap().file_name().to_string_lossy().into_owned();
        read_whole(&mut run, &format!("/ipfs/{pin}"));
    }
    run.send_line("quit");
    let (status, _, stderr) = run.finish();
    assert!(status.success(), "{}", stderr.join("\n"));
}

#[test]
fn bitswap_fetches_killed_at_random_points_leave_no_partial_pin() {
    let image = image("ipfs-cmd");
    let source = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut rng = Rng(SEED ^ 0xb175);
    let mut peer = node(source.path(), image.path());
    let addr = tcp_addr(&mut peer);
    let mut answered: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut interrupted = 0;
    let mut scale = None;
    for n in 0..=FETCH_KILLS {
        // New content each time, so every fetch brings blocks anew.
        let bytes = content(BIG, 5000 + n);
        let cid = ask(&mut peer, &format!("gen {BIG} {}", 5000 + n));
        let mut run = node(data.path(), image.path());
        assert_eq!(ask(&mut run, &format!("connect {addr}")), "ok");
        run.send_line(&format!("pin {cid}"));
        match scale {
            // The first runs whole: the scale of the kill points.
            None => {
                let started = Instant::now();
                run.wait_for(Stream::Stdout, "pin: ok");
                scale = Some(started.elapsed());
            }
            Some(scale) => std::thread::sleep(rng.delay(scale)),
        }
        kill(run.pid(), libc::SIGKILL);
        let (_, stdout, stderr) = run.finish();
        assert_no_panic(&stderr.join("\n"));
        if stdout.iter().any(|l| l == "pin: ok") {
            answered.insert(cid, bytes);
        } else {
            interrupted += 1;
            assert!(!stdout.iter().any(|l| l.starts_with("pin: ")), "{stdout:?}");
        }
    }
    assert!(interrupted > 0, "no kill landed during a fetch");
    eprintln!("{FETCH_KILLS} kills, {interrupted} during a fetch");
    peer.send_line("quit");
    peer.finish();
    check_and_serve(data.path(), image.path(), &answered);
}
