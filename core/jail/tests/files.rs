//! Files: the jailed process sees only what its policy lists.

use ww_jail::Ending;

use crate::util::{policy, run, scratch};

#[test]
fn passwd_and_root_are_denied() {
    let (ending, out) = run(&policy(), &["read", "/etc/passwd"]);
    assert_eq!(ending, Ending::Exited(1), "{out}");
    assert!(out.contains("refused"), "{out}");
    let (ending, out) = run(&policy(), &["read", "/root"]);
    assert_eq!(ending, Ending::Exited(1), "{out}");
}

#[test]
fn system_libraries_are_readable() {
    let (ending, out) = run(&policy(), &["read", "/etc/ld.so.cache"]);
    assert_eq!(ending, Ending::Exited(0), "{out}");
}

#[test]
fn writes_only_inside_scratch() {
    let dir = scratch();
    let outside = tempfile::tempdir().unwrap();
    crate::util::chmod(outside.path(), 0o777);
    let mut policy = policy();
    policy.read_write.push(dir.path().into());
    let inside = dir.path().join("note");
    let (ending, out) = run(&policy, &["write", inside.to_str().unwrap()]);
    assert_eq!(ending, Ending::Exited(0), "{out}");
    assert_eq!(std::fs::read(&inside).unwrap(), b"written by ww-jail-probe");
    // A world-writable directory the policy does not list.
    let elsewhere = outside.path().join("note");
    let (ending, out) = run(&policy, &["write", elsewhere.to_str().unwrap()]);
    assert_eq!(ending, Ending::Exited(1), "{out}");
    assert!(!elsewhere.exists());
}

#[test]
fn a_shell_runs_only_the_programs_listed() {
    let policy = ww_jail::Policy {
        executable: vec!["/bin/sh".into(), "/bin/cat".into()],
        ..ww_jail::Policy::default()
    };
    let jail = crate::util::jail(&policy);
    let mut command = std::process::Command::new("/bin/sh");
    command
        .args([
            "-c",
            "cat /etc/ld.so.cache > /dev/null && echo cat ran; ls /",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut jailed = jail.spawn(command, &[]).unwrap();
    let mut out = String::new();
    let mut err = String::new();
    use std::io::Read;
    jailed
        .child()
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    jailed
        .child()
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    // `ls` is not listed: the shell cannot execute it (126).
    assert_eq!(jailed.wait().unwrap(), Ending::Exited(126), "{out} {err}");
    assert_eq!(out, "cat ran\n", "{err}");
    assert!(err.contains("Permission denied"), "{err}");
}

#[test]
fn python_runs_with_the_defaults_and_its_binary() {
    // Debian's Python keeps its standard library under /usr/lib, which the
    // defaults grant; a prefix elsewhere would be a `read_only` path.
    let python = std::path::Path::new("/usr/bin/python3");
    if !python.exists() {
        panic!("this test needs /usr/bin/python3 (Debian's python3 package)");
    }
    let policy = ww_jail::Policy {
        executable: vec![python.into()],
        ..ww_jail::Policy::default()
    };
    let jail = crate::util::jail(&policy);
    let mut command = std::process::Command::new(python);
    command
        .args([
            "-c",
            "import json; print(json.dumps([1]));\n\
             try:\n    open('/etc/passwd')\nexcept PermissionError:\n    print('denied')",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut jailed = jail.spawn(command, &[]).unwrap();
    let mut out = String::new();
    let mut err = String::new();
    use std::io::Read;
    jailed
        .child()
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    jailed
        .child()
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(jailed.wait().unwrap(), Ending::Exited(0), "{out} {err}");
    assert_eq!(out, "[1]\ndenied\n", "{err}");
}
