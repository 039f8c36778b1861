use ww_tests::*;

#[test]
fn ww_build_turns_a_guest_crate_into_a_bootable_image() {
    let dir = tempfile::tempdir().unwrap();
    let krate = dir.path().join("tiny");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        krate.join("src/main.rs"),
        "fn main() { println!(\"tiny guest, {} args\", std::env::args().count()); }\n",
    )
    .unwrap();

    let built = output(
        std::process::Command::new(ww())
            .arg("build")
            .arg(&krate)
            .env("CARGO_TARGET_DIR", dir.path().join("target")),
    );
    assert_exit(&built, 0);
    assert!(krate.join("boot/main.wasm").is_file());

    let out = output(ww_run(&ww()).arg(&krate).args(["--", "x"]));
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout).trim(), "tiny guest, 2 args");
}

#[test]
fn ww_build_needs_a_crate() {
    let dir = tempfile::tempdir().unwrap();
    let out = output(
        std::process::Command::new(ww())
            .arg("build")
            .arg(dir.path()),
    );
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("Cargo.toml"),
        "{}",
        text(&out.stderr)
    );
}
