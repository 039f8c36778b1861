use ww_tests::*;

#[test]
fn old_capabilities_fail_stale_after_an_epoch_advance_and_regraft_works() {
    let img = image("epoch");
    let mut node = Running::start(ww_run(&ww()).arg("--revoke-on-hup").arg(img.path()));
    assert_eq!(node.wait_for(Stream::Stdout, "before:"), "before: ok");
    node.advance_epoch();
    // A top-level capability and one returned from a call are both revoked.
    assert_eq!(node.wait_for(Stream::Stdout, "top:"), "top: stale 2");
    assert_eq!(
        node.wait_for(Stream::Stdout, "returned:"),
        "returned: stale 2"
    );
    assert_eq!(
        node.wait_for(Stream::Stdout, "regraft:"),
        "regraft: ok epoch=2"
    );
    let (status, _, stderr) = node.finish();
    assert_eq!(status.code(), Some(0), "{}", stderr.join("\n"));
}

#[test]
fn without_revocation_sighup_does_not_change_the_epoch() {
    // Without --revoke-on-hup the epoch lasts for the life of the process;
    // SIGHUP then ends the process like any other hang-up.
    let img = image("epoch");
    let mut cmd = ww_run(&ww());
    // SIGHUP's default action, whatever the test runner inherited: a run
    // under nohup ignores it, and an ignored signal stays ignored across
    // exec (ww rightly keeps an operator's nohup).
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::signal(libc::SIGHUP, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut node = Running::start(cmd.arg(img.path()));
    node.wait_for(Stream::Stdout, "ready");
    kill(node.pid(), libc::SIGHUP);
    let (status, stdout, _) = node.finish();
    assert_eq!(status.code(), None, "terminated by the signal");
    assert!(!stdout.iter().any(|l| l.contains("stale")), "{stdout:?}");
}
