use ww_tests::*;

#[test]
fn a_cell_reaches_nothing_it_was_not_given() {
    let img = image("sandbox");
    let out = output(
        ww_run(&ww())
            .env("WW_SECRET", "host secret")
            .env("WW_GIVEN", "from the host")
            .args(["--env", "WW_GIVEN"])
            .arg(img.path()),
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    for probe in [
        "read-passwd",
        "write-image",
        "create-file",
        "env-secret",
        "socket",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{probe}:")))
            .unwrap_or_else(|| panic!("no {probe} line in:\n{stdout}"));
        assert!(line.starts_with(&format!("{probe}: denied")), "{line}");
    }
    assert!(stdout.contains("read-image: ok"), "{stdout}");
    assert!(stdout.contains("env-given: from the host"), "{stdout}");
    assert!(!stdout.contains("host secret"));
    // Nothing was written into the image on the host either.
    assert!(!img.path().join("pwned").exists());
    assert_eq!(
        std::fs::read(img.path().join("boot/main.wasm")).unwrap(),
        std::fs::read(guest("sandbox")).unwrap()
    );
}
