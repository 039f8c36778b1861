//! A third party's provider, written outside the repository: `ww init
//! --provider` scaffolds it, cargo builds and tests it against this
//! checkout's SDK, `ww providers` lists its methods, and `ww run
//! --provider` loads it (as a library and as a process) for the shell to
//! call. Its build directory is kept across runs, as the guest
//! scaffolding test's is, so only a first run compiles the SDK's
//! dependencies.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ww_tests::*;

/// A cold build of the SDK and its dependencies takes minutes on two cores.
const BUILD: Duration = Duration::from_secs(20 * 60);

/// The scaffolded provider's cargo target directory.
fn target() -> PathBuf {
    profile_dir().join("e2e-provider-target")
}

/// `cargo ARGS` in `project`, offline, within [`BUILD`]; its output is
/// kept in files (a pipe nobody drains would stall a long build).
fn cargo(project: &Path, args: &[&str]) {
    let log = tempfile::NamedTempFile::new().expect("a log file");
    let mut child = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .arg("--offline")
        .current_dir(project)
        .env("CARGO_TARGET_DIR", target())
        .env_remove("RUSTFLAGS")
        .stdin(Stdio::null())
        .stdout(log.reopen().expect("log"))
        .stderr(log.reopen().expect("log"))
        .spawn()
        .expect("run cargo");
    let deadline = Instant::now() + BUILD;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for cargo") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("cargo {args:?} did not finish within {BUILD:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = std::fs::read_to_string(log.path()).unwrap_or_default();
    assert!(
        status.success(),
        "cargo {args:?} failed: {status}\n{output}"
    );
}

/// `to` relative to the directory `from` (both absolute and canonical).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let ups = from.components().count() - 1;
    let mut path: PathBuf = std::iter::repeat_n("..", ups).collect();
    path.push(to.strip_prefix("/").expect("an absolute path"));
    path
}

#[test]
fn a_provider_scaffolded_outside_the_repository_builds_loads_and_serves_cells() {
    let tmp = readable_tempdir();
    let place = std::fs::canonicalize(tmp.path()).unwrap();
    // A relative --sdk: written relative to the project, never absolute.
    let sdk = relative(&place, &repo_root().join("providers/sdk"));
    let out = output(
        Command::new(ww())
            .current_dir(&place)
            .args(["init", "greeter", "--provider", "--process", "--sdk"])
            .arg(&sdk)
            .env_remove("WW_PROVIDER_SDK"),
    );
    assert_exit(&out, 0);
    let project = place.join("greeter");
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("path = \"../"), "{manifest}");
    assert!(
        !manifest.contains(&format!("\"{}", repo_root().display())),
        "no absolute path was asked for:\n{manifest}"
    );
    assert!(project.join("Cargo.lock").is_file(), "ww's versions");

    cargo(&project, &["build"]);
    // The scaffold's own test starts the provider and calls it.
    cargo(&project, &["test"]);
    let library = target().join("debug/libgreeter.so");
    let program = target().join("debug/greeter");

    // `ww providers` lists the methods from the schema node it hands over.
    let described = output(Command::new(ww()).arg("providers").arg(&library));
    assert_exit(&described, 0);
    let listing = text(&described.stdout);
    for line in [
        "greeter 0.1.0",
        "config    greeter-greeting (optional)",
        "methods of greeter:",
        "hello(name :Text) -> (greeting :Text)",
        "count() -> (greeted :UInt64)",
    ] {
        assert!(listing.contains(line), "{line:?} in:\n{listing}");
    }

    // Loaded into the node, called from the shell, configured.
    let kernel = image("kernel");
    let out = output_with_input(
        ww_run(&ww())
            .arg("--provider")
            .arg(&library)
            .args(["--config", "greeter-greeting=Hi"])
            .arg(kernel.path()),
        "(greeter hello \"ww\")\n(greeter hello \"\")\n(greeter count)\n",
    );
    assert_exit(&out, 0);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stdout.contains("\"Hi, ww!\""), "{stdout}\n{stderr}");
    // A one-field result prints as its value: the count of greetings.
    assert!(
        stdout.lines().any(|l| l.trim() == "1"),
        "{stdout}\n{stderr}"
    );
    // A failed call reads as the provider said it, once.
    assert!(stderr.contains("hello needs a name"), "{stderr}");
    assert!(
        !stderr.contains("remote exception: remote exception"),
        "{stderr}"
    );

    // The same crate's executable, run as a jailed provider process.
    let out = output_with_input(
        ww_run(&ww())
            .arg("--provider")
            .arg(&program)
            .arg(kernel.path()),
        "(greeter hello \"jail\")\n",
    );
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("\"Hello, jail!\""),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    // A value the provider refuses at start: named once, with its reason.
    let out = output(
        ww_run(&ww())
            .arg("--provider")
            .arg(&library)
            .args(["--config", "greeter-greeting= "])
            .arg(kernel.path()),
    );
    assert_ne!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert_eq!(stderr.matches("failed to start").count(), 1, "{stderr}");
    assert!(stderr.contains("greeter-greeting"), "{stderr}");
}
