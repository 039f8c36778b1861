use ww_tests::*;

#[test]
fn kernel_grafts_and_lists_its_capabilities() {
    let kernel = image("kernel");
    let out = output(ww_run(&ww()).arg(kernel.path()));
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("epoch 1"), "{stdout}");
    // Each capability, then its methods with their types.
    assert!(
        stdout.contains(
            "  identity  Identity\n    publicKey() -> (key :Data)\n    \
             signer(domain :Text) -> (signer :Signer)\n    \
             verify(data :Data, signature :Data, publicKey :Data) -> (valid :Bool)\n"
        ),
        "{stdout}"
    );
    // Logs go to stderr, never mixed into the cell's stdout.
    assert!(
        !stdout.contains("INFO") && !stdout.contains("ephemeral"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("ephemeral"),
        "the ephemeral key is said in the log"
    );
}

#[test]
fn pid0_exit_status_is_wws_exit_status() {
    let img = image("exit");
    for code in [0, 3, 42] {
        let out = output(
            ww_run(&ww())
                .arg(img.path())
                .arg("--")
                .arg(code.to_string()),
        );
        assert_exit(&out, code);
    }
}

#[test]
fn arguments_after_double_dash_reach_pid0() {
    let img = image("hello");
    let out = output(ww_run(&ww()).arg(img.path()).args(["--", "a", "b c"]));
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("hello from a cell"), "{stdout}");
    assert!(stdout.contains("args: a b c"), "{stdout}");
}

#[test]
fn layers_merge_later_wins_and_mounts_place_files() {
    // base has a broken kernel; the overlay's kernel wins.
    let base = image_from_bytes(b"not wasm");
    std::fs::create_dir_all(base.path().join("etc")).unwrap();
    std::fs::write(base.path().join("etc/greeting"), "base").unwrap();
    let overlay = image("sandbox");
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), "mounted").unwrap();
    let mount = format!("{}:/etc/greeting", secret.path().display());
    let out = output(
        ww_run(&ww())
            .arg(base.path())
            .arg(overlay.path())
            .arg(&mount),
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    // The sandbox guest reads its own /boot/main.wasm: the overlay's.
    let len = std::fs::metadata(guest("sandbox")).unwrap().len();
    assert!(
        stdout.contains(&format!("read-image: ok {len}")),
        "{stdout}"
    );
}

#[test]
fn compiled_kernels_are_cached_by_content() {
    let cache = tempfile::tempdir().unwrap();
    let img = image("hello");
    for _ in 0..2 {
        let out = output(
            std::process::Command::new(ww())
                .args(["run", "--cache-dir"])
                .arg(cache.path())
                .arg(img.path()),
        );
        assert_exit(&out, 0);
    }
    let entries: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "one artefact for one component");
    // A corrupted artefact is recompiled, not trusted.
    let artefact = entries[0].as_ref().unwrap().path();
    std::fs::write(&artefact, b"garbage").unwrap();
    let out = output(
        std::process::Command::new(ww())
            .args(["run", "--cache-dir"])
            .arg(cache.path())
            .arg(img.path()),
    );
    assert_exit(&out, 0);
    assert!(
        text(&out.stderr).contains("recompiling"),
        "{}",
        text(&out.stderr)
    );
}
