//! Every committed input of every fuzz target, run once through the
//! target's body (`tests/fuzz/corpus/<target>/`): an input that once made
//! ww panic fails the tests if the bug comes back. This is the fuzz
//! targets' regression suite on the ordinary build; libFuzzer explores
//! from the same corpora in tests/fuzz.

use std::path::{Path, PathBuf};

/// The inputs of `target`'s corpus, in name order.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(target);
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} holds no inputs", dir.display());
    inputs
}

/// Runs `body` over every input of `target`, naming the input that fails.
fn replay(target: &str, body: impl Fn(&[u8])) {
    for path in corpus(target) {
        let input = std::fs::read(&path).expect("a corpus input");
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&input)));
        if let Err(panic) = run {
            std::panic::resume_unwind(Box::new(format!(
                "{target}: {} fails; rerun it with `cargo fuzz run --fuzz-dir tests/fuzz -s none {target} {}`: {}",
                path.display(),
                path.display(),
                panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("a panic")
            )));
        }
    }
}

#[test]
fn glia_read_eval() {
    replay("glia_read_eval", ww_fuzz_harness::glia::read_eval);
}

#[cfg(feature = "ipfs")]
#[test]
fn unixfs_blocks() {
    replay("unixfs_blocks", ww_fuzz_harness::blocks::read);
}

#[cfg(feature = "ipfs")]
#[test]
fn bitswap_messages() {
    replay("bitswap_messages", ww_fuzz_harness::bitswap::receive);
}

#[cfg(feature = "core")]
#[test]
fn vat_frames() {
    replay("vat_frames", |input| {
        ww_fuzz_harness::frames::serve(input);
    });
}

#[cfg(feature = "core")]
#[test]
fn terminal_login() {
    replay("terminal_login", |input| {
        ww_fuzz_harness::login::login(input);
    });
}

#[cfg(feature = "core")]
#[test]
fn layer_specs() {
    replay("layer_specs", ww_fuzz_harness::layers::parse);
}

/// The recorded seeds (named, not hashed like the inputs libFuzzer
/// found) run to their end within the harness's turns: a session cut
/// short would leave the fuzzer exploring only its beginning.
#[cfg(feature = "core")]
#[test]
fn recorded_sessions_run_to_their_end() {
    for (target, body) in [
        (
            "vat_frames",
            ww_fuzz_harness::frames::serve as fn(&[u8]) -> bool,
        ),
        ("terminal_login", ww_fuzz_harness::login::login),
    ] {
        let seeds: Vec<PathBuf> = corpus(target)
            .into_iter()
            .filter(|path| path.file_name().is_some_and(|n| n.len() < 40))
            .collect();
        assert!(!seeds.is_empty(), "{target} has no recorded seeds");
        for path in seeds {
            let input = std::fs::read(&path).expect("a corpus input");
            assert!(body(&input), "{} did not end", path.display());
        }
    }
}
