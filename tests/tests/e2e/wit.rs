use ww_tests::*;

#[test]
fn the_same_calls_through_wit_and_the_vat_return_the_same_results() {
    let img = image("wit-doors");
    let out = output(&mut ww_run(&ww()).arg(img.path()));
    let stdout = text(&out.stdout);
    assert_exit(&out, 0);
    for call in [
        "graft.epoch",
        "graft.names",
        "identity.public-key",
        "signer.sign",
        "signer.domain",
        "identity.verify",
        "host.id",
        "executor.echo",
        "routing.hash",
    ] {
        assert!(
            stdout.lines().any(|l| l == format!("same {call}")),
            "{call} not the same through both doors:\n{stdout}"
        );
    }
    assert!(stdout.contains("compared 9"), "{stdout}");
}

#[test]
fn a_revoked_wit_resource_reports_the_typed_stale_epoch_error_and_regraft_works() {
    let img = image("wit-epoch");
    let mut node = Running::start(ww_run(&ww()).arg("--revoke-on-hup").arg(img.path()));
    assert_eq!(
        node.wait_for(Stream::Stdout, "before:"),
        "before: ok epoch=1"
    );
    node.advance_epoch();
    assert_eq!(
        node.wait_for(Stream::Stdout, "top:"),
        "top: stale issued=1 current=2"
    );
    assert_eq!(
        node.wait_for(Stream::Stdout, "returned:"),
        "returned: stale issued=1 current=2"
    );
    assert_eq!(
        node.wait_for(Stream::Stdout, "regraft:"),
        "regraft: ok epoch=2"
    );
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
}
