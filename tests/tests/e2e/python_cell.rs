//! A native cell written in Python with pycapnp (PyPI), a Cap'n Proto
//! implementation ww does not contain: `tests/cells/python/cell.py` as
//! pid0, jailed, given pycapnp and ww's schemas with `--ro`, its vat on
//! fd 3.

use ww_tests::*;

#[test]
fn a_jailed_python_cell_grafts_signs_adds_and_gets_stale_epoch_after_an_advance() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut node = Running::start(
        ww_run(&ww())
            .args(python_reads())
            .arg("--revoke-on-hup")
            .arg("--data-dir")
            .arg(data.path())
            .arg(python_cell())
            .args(["--", "7"]),
    );
    assert_eq!(
        node.wait_for(Stream::Stdout, "graft:"),
        "graft: epoch 1, caps executor host identity ipfs routing"
    );
    assert_eq!(
        node.wait_for(Stream::Stdout, "sign:"),
        "sign: key 32 bytes, signature 64 bytes, valid True"
    );
    let ipfs = node.wait_for(Stream::Stdout, "ipfs:");
    assert!(
        ipfs.starts_with("ipfs: added Qm") && ipfs.ends_with(r"cat 'hello from a python cell\n'"),
        "{ipfs}"
    );
    // The jail: no /etc/passwd, no home, none of the checkout beyond what
    // --ro gave, no Internet sockets.
    let repo = python_cell()
        .ancestors()
        .nth(4)
        .expect("the checkout")
        .display()
        .to_string();
    assert_eq!(
        node.wait_for(Stream::Stdout, "jail:"),
        format!("jail: /etc/passwd denied, /root denied, {repo} denied, inet denied")
    );
    node.advance_epoch();
    let old = node.wait_for(Stream::Stdout, "old:");
    assert!(
        old.contains("staleEpoch: capability from epoch 1 was revoked; current epoch is 2"),
        "{old}"
    );
    assert_eq!(
        node.wait_for(Stream::Stdout, "regraft:"),
        "regraft: epoch 2, valid True"
    );
    let (status, _, stderr) = node.finish();
    let stderr = stderr.join("\n");
    assert_eq!(status.code(), Some(7), "the cell's own status: {stderr}");
    assert_no_panic(&stderr);
    assert!(!stderr.contains("--no-jail"), "it ran jailed: {stderr}");
}

#[test]
fn a_python_cell_without_its_libraries_fails_with_its_own_error_and_status() {
    // Without --ro for pycapnp the jailed interpreter cannot import it:
    // the cell's own traceback and status 1, nothing of the node's.
    let out = output(ww_run(&ww()).arg(python_cell()));
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("ModuleNotFoundError: No module named 'capnp'"),
        "{stderr}"
    );
    assert_no_panic(&stderr);
}
