//! Failing closed: every failure names what went wrong.

use std::path::PathBuf;

use ww_jail::{code, Ending, Error, Jail, Policy, Step};

use crate::util::{jail, policy, probe_command};

#[test]
fn this_host_has_every_feature() {
    let features = ww_jail::probe();
    assert!(features.complete(), "{features}");
}

#[test]
fn a_missing_program_is_127() {
    let jail = jail(&policy());
    let command = std::process::Command::new("/nonexistent/program");
    let Err(Error::Spawn(e)) = jail.spawn(command, &[]) else {
        panic!("a missing program must fail the spawn");
    };
    assert_eq!(Ending::status_of_spawn_error(&e), code::NOT_FOUND);
}

#[test]
fn a_program_outside_the_executable_paths_is_126() {
    let jail = jail(&policy());
    let command = std::process::Command::new("/bin/true");
    let Err(Error::Spawn(e)) = jail.spawn(command, &[]) else {
        panic!("a program the policy does not list must not run");
    };
    assert_eq!(Ending::status_of_spawn_error(&e), code::NOT_EXECUTABLE);
}

#[test]
fn a_missing_path_is_named() {
    let missing = PathBuf::from("/nonexistent/ro");
    let mut policy = policy();
    policy.read_only.push(missing.clone());
    let Err(Error::Path { path, .. }) = Jail::new(&policy) else {
        panic!("a missing path must fail");
    };
    assert_eq!(path, missing);
}

#[test]
fn root_is_refused() {
    let policy = Policy { uid: 0, ..policy() };
    assert!(matches!(Jail::new(&policy), Err(Error::RootUid)));
}

#[test]
fn a_failed_step_is_named() {
    // A bound of one process leaves no room for the program beside the init.
    let mut policy = policy();
    policy.limits.processes = Some(1);
    let err = jail(&policy)
        .spawn(probe_command(&["pause"]), &[])
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Setup {
                step: Step::Fork,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("forking the program"), "{err}");
}
