//! Shared harness for the end-to-end tests: where the built artefacts are,
//! images in temporary directories, and `ww` processes driven with bounded
//! waits (never fixed sleeps).
//!
//! The artefacts are built by `scripts/test.sh` before `cargo test`: the
//! host binaries (`ww`, `ww-minimal`, provider libraries) in the profile
//! directory next to the test executable, and the guests in
//! `target/wasm32-wasip2/release`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// How long any one step may take before the test fails (generous: debug
/// builds on a 2-core machine compile components slowly on a cold cache).
pub const STEP: Duration = Duration::from_secs(120);

/// `target/debug` (or whichever profile built the tests).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test>-<hash>
    exe.parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps")
        .to_path_buf()
}

fn built(path: PathBuf, how: &str) -> PathBuf {
    assert!(path.exists(), "{} is missing: {how}", path.display());
    path
}

/// The default `ww` binary.
pub fn ww() -> PathBuf {
    built(
        profile_dir().join("ww"),
        "run `cargo build` (scripts/test.sh does)",
    )
}

/// `ww` built with `--no-default-features --features compiler`: no
/// built-in providers.
pub fn ww_minimal() -> PathBuf {
    built(
        profile_dir().join("ww-minimal"),
        "run scripts/test.sh, which builds it with `cargo build -p ww --no-default-features --features compiler`",
    )
}

/// `ww` built with `--no-default-features`: no built-in providers and no
/// compiler (a runtime-only build).
pub fn ww_runtime() -> PathBuf {
    built(
        profile_dir().join("ww-runtime"),
        "run scripts/test.sh, which builds it with `cargo build -p ww --no-default-features`",
    )
}

/// The `.cwasm` artefacts in a compile cache directory.
pub fn artefacts(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("read the cache")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect()
}

/// The native test cell (`tests/native`): a host executable that speaks
/// Cap'n Proto to the node on its fd 3.
pub fn native_cell() -> PathBuf {
    built(
        profile_dir().join("native-cell"),
        "run `cargo build` (scripts/test.sh does)",
    )
}

/// Whether process `pid` has ended: gone, or a zombie nobody reaped yet.
pub fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

/// The live processes whose command line holds `args` in a row, seen
/// from the test's PID namespace (a jailed cell's own pids are not).
pub fn processes_with_args(args: &[&str]) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmd| {
                let words: Vec<&[u8]> = cmd.split(|b| *b == 0).collect();
                words
                    .windows(args.len())
                    .any(|w| w.iter().zip(args).all(|(a, b)| *a == b.as_bytes()))
            })
        })
        .filter(|pid| !ended(*pid))
        .collect()
}

/// Waits until `pid` has ended; fails the test after [`STEP`].
pub fn wait_ended(pid: u32, what: &str) {
    let deadline = Instant::now() + STEP;
    while !ended(pid) {
        assert!(
            Instant::now() < deadline,
            "{what} (pid {pid}) still runs after {STEP:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A provider library, e.g. `plugin("ww_identity")` → `libww_identity.so`.
pub fn plugin(crate_name: &str) -> PathBuf {
    built(
        profile_dir().join(format!("lib{crate_name}.so")),
        "run `cargo build` (scripts/test.sh does)",
    )
}

/// A provider built as an executable (`ww_provider_sdk::serve`), e.g.
/// `provider_program("ww-identity")`.
pub fn provider_program(name: &str) -> PathBuf {
    built(
        profile_dir().join(name),
        "run `cargo build` (scripts/test.sh does)",
    )
}

/// The ww checkout these tests belong to (the SDKs are in it).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the repository")
        .to_path_buf()
}

/// The provider process written in Python with pycapnp
/// (`tests/providers/python/kv_provider.py`).
pub fn python_provider() -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the repository")
        .to_path_buf();
    let pycapnp = repo.join(".tools/pycapnp/capnp/__init__.py");
    assert!(
        pycapnp.exists(),
        "pycapnp is missing from {}: run scripts/setup.sh",
        pycapnp.display()
    );
    repo.join("tests/providers/python/kv_provider.py")
}

/// A temporary directory a jailed cell or provider can read: the jail runs
/// it as `nobody` when the tests run as root, and a temporary directory is
/// private to its owner.
pub fn readable_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod 755");
    dir
}

/// The native cell written in Python with pycapnp
/// (`tests/cells/python/cell.py`).
pub fn python_cell() -> PathBuf {
    python_provider()
        .ancestors()
        .nth(3)
        .expect("the tests directory")
        .join("cells/python/cell.py")
}

/// `--ro` flags that let a jailed Python program with pycapnp start: the
/// pycapnp this checkout installed and ww's schemas. (The interpreter and
/// its standard library are among the system paths the jail grants.)
pub fn python_reads() -> Vec<std::ffi::OsString> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the repository")
        .to_path_buf();
    [".tools/pycapnp", "capnp/schema"]
        .iter()
        .flat_map(|p| ["--ro".into(), repo.join(p).into_os_string()])
        .collect()
}

/// A guest built for wasm32-wasip2 (a bin of tests/guests, or `kernel`).
pub fn guest(name: &str) -> PathBuf {
    let target = profile_dir().parent().expect("target dir").to_path_buf();
    built(
        target
            .join("wasm32-wasip2/release")
            .join(format!("{name}.wasm")),
        "run scripts/build-guests.sh (scripts/test.sh does)",
    )
}

/// A shared compile cache for every test run, so each guest compiles once.
pub fn cache_dir() -> PathBuf {
    profile_dir().join("e2e-cache")
}

/// An image directory holding `guest` as `boot/main.wasm`.
pub fn image(guest_name: &str) -> tempfile::TempDir {
    image_from_bytes(&std::fs::read(guest(guest_name)).expect("read guest"))
}

/// An image directory whose `boot/main.wasm` is `bytes`.
pub fn image_from_bytes(bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("boot")).expect("mkdir boot");
    std::fs::write(dir.path().join("boot/main.wasm"), bytes).expect("write boot");
    dir
}

/// `ww run` with the shared cache, a clean environment and free loopback
/// listen ports: the arguments are appended after `run`.
pub fn ww_run(binary: &Path) -> Command {
    ww_run_with_cache(binary, &cache_dir())
}

/// [`ww_run`] with the compile cache in `cache` (a test of the cache
/// itself, or one that must not share it).
pub fn ww_run_with_cache(binary: &Path, cache: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.arg("run")
        .arg("--cache-dir")
        .arg(cache)
        .env_remove("WW_IDENTITY")
        // Free loopback ports: tests run in parallel and must not contend
        // for the default port.
        .env(
            "WW_LISTEN",
            "/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/udp/0/quic-v1",
        )
        .env("RUST_LOG", "warn,ww=info,ww_core=info");
    cmd
}

/// Runs `cmd` to completion with no stdin, failing the test after [`STEP`].
pub fn output(cmd: &mut Command) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_bounded(child, &format!("{cmd:?}"))
}

/// Runs `cmd` to completion with `input` piped to its stdin (then closed),
/// failing the test after [`STEP`]. A program that exits before reading
/// all of it (a refusal) is fine: the broken pipe is ignored.
pub fn output_with_input(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    wait_bounded(child, &format!("{cmd:?}"))
}

/// Waits for `child` to exit, killing it and failing the test after
/// [`STEP`].
fn wait_bounded(child: Child, what: &str) -> Output {
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(STEP) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            kill(pid, libc::SIGKILL);
            panic!("{what} did not finish within {STEP:?}");
        }
    }
}

/// Text of an output stream.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the process exited with `code`, showing both streams otherwise.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit status\n--- stdout\n{}\n--- stderr\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Asserts nothing in `stderr` looks like a host panic.
pub fn assert_no_panic(stderr: &str) {
    assert!(
        !stderr.contains("panicked at") && !stderr.contains("RUST_BACKTRACE"),
        "the host panicked:\n{stderr}"
    );
}

/// A `kB` field of `/proc/<pid>/status` (e.g. `VmRSS`, `VmHWM` for the peak
/// resident set), in KiB.
pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// Sends `signal` to `pid`.
pub fn kill(pid: u32, signal: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(pid as i32, signal);
    }
}

/// A running `ww` whose stdout and stderr are read line by line.
pub struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<(Stream, String)>,
    stdout: Vec<String>,
    stderr: Vec<String>,
}

/// Which stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// The cell's output.
    Stdout,
    /// ww's logs and the cell's errors.
    Stderr,
}

impl Running {
    /// Starts `cmd` with piped stdio.
    pub fn start(cmd: &mut Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ww");
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        for (stream, reader) in [
            (
                Stream::Stdout,
                Box::new(out) as Box<dyn std::io::Read + Send>,
            ),
            (Stream::Stderr, Box::new(err)),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(reader).lines().map_while(Result::ok) {
                    if tx.send((stream, line)).is_err() {
                        break;
                    }
                }
            });
        }
        Running {
            stdin: child.stdin.take(),
            child,
            lines,
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A line of `stream` containing `needle` that was already read (while
    /// waiting for another), or else the next one, as [`Running::wait_for`].
    pub fn seen_or_wait_for(&mut self, stream: Stream, needle: &str) -> String {
        let seen = match stream {
            Stream::Stdout => &self.stdout,
            Stream::Stderr => &self.stderr,
        };
        match seen.iter().find(|l| l.contains(needle)) {
            Some(line) => line.clone(),
            None => self.wait_for(stream, needle),
        }
    }

    /// Waits until a line of `stream` contains `needle`; fails after [`STEP`].
    pub fn wait_for(&mut self, stream: Stream, needle: &str) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((s, line)) => {
                    let hit = s == stream && line.contains(needle);
                    match s {
                        Stream::Stdout => self.stdout.push(line.clone()),
                        Stream::Stderr => self.stderr.push(line.clone()),
                    }
                    if hit {
                        return line;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    panic!(
                        "no {stream:?} line containing {needle:?} within {STEP:?}\n--- stdout\n{}\n--- stderr\n{}",
                        self.stdout.join("\n"),
                        self.stderr.join("\n")
                    );
                }
            }
        }
    }

    /// Revokes every capability of the current epoch: after a guest printed
    /// `ready`, sends SIGHUP (the node runs with `--revoke-on-hup`), waits
    /// until the node logs the advance, then lets the guest go on.
    pub fn advance_epoch(&mut self) {
        self.wait_for(Stream::Stdout, "ready");
        kill(self.pid(), libc::SIGHUP);
        self.wait_for(Stream::Stderr, "epoch advanced");
        self.send_line("go");
    }

    /// Closes the process's stdin (end of input); its output is still read.
    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Writes a line to the process's stdin.
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Closes stdin, waits for exit (bounded), and returns the status with
    /// every line seen.
    pub fn finish(mut self) -> (ExitStatus, Vec<String>, Vec<String>) {
        drop(self.stdin.take());
        let deadline = Instant::now() + STEP;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "ww did not exit within {STEP:?}\n{}",
                    self.stderr.join("\n")
                );
            }
            // Drain output while waiting, so a full pipe cannot block the child.
            if let Ok((s, line)) = self.lines.recv_timeout(Duration::from_millis(50)) {
                match s {
                    Stream::Stdout => self.stdout.push(line),
                    Stream::Stderr => self.stderr.push(line),
                }
            }
        };
        // The reader threads end at EOF: collect the rest.
        while let Ok((s, line)) = self.lines.recv_timeout(Duration::from_secs(5)) {
            match s {
                Stream::Stdout => self.stdout.push(line),
                Stream::Stderr => self.stderr.push(line),
            }
        }
        (status, self.stdout, self.stderr)
    }
}

/// A real EVM chain (anvil) for the stem tests.
pub mod anvil;

/// Waits for one connection on `listener`, failing the test after
/// [`STEP`]. A guest dials such a listener to say "I got here" when its
/// output cannot be seen yet (a remote evaluation's output comes at its
/// end).
pub fn accept_within(listener: &std::net::TcpListener) {
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    let start = Instant::now();
    loop {
        match listener.accept() {
            Ok(_) => return,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(start.elapsed() < STEP, "no connection within {STEP:?}");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// A multiaddr for `listener` that a guest's `(host connect …)` dials: the
/// TCP connection arrives even though the peer id is no one's.
pub fn knock_addr(listener: &std::net::TcpListener) -> String {
    format!(
        "/ip4/127.0.0.1/tcp/{}/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN",
        listener.local_addr().expect("listener address").port()
    )
}

/// The bytes a `Signer` signs (capnp/schema/identity.capnp): what a
/// verifier outside ww checks a guest's signature against.
pub fn signed_bytes(domain: &str, nonce: &[u8], epoch: u64) -> Vec<u8> {
    let mut data = domain.as_bytes().to_vec();
    data.push(0);
    data.extend_from_slice(nonce);
    data.extend_from_slice(&epoch.to_be_bytes());
    data
}

/// The value of the `NAME=value` line of a guest's output.
pub fn field<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name}= in:\n{stdout}"))
}

/// Asserts `out` is a clean run of the `hello` guest: status 0 and its
/// greeting on stdout.
pub fn assert_hello(out: &Output) {
    assert_exit(out, 0);
    assert!(
        text(&out.stdout).contains("hello from a cell"),
        "{}",
        text(&out.stdout)
    );
}
