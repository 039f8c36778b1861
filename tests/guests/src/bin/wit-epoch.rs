//! Epoch revocation through the typed WIT door, with no RPC vat at all: a
//! resource from a graft, and one returned by a call on it, fail with the
//! typed `stale-epoch` error once the test advances the epoch (between
//! `ready` and the line it writes to stdin); a new graft works.

use ww_guest::wit;
use ww_test_guests::ready_then_wait;

/// Prints `<label>: stale issued=N current=M`, or `<label>: NOT STALE`.
fn report<T>(label: &str, result: Result<T, wit::Error>) -> bool {
    match result {
        Err(wit::Error::StaleEpoch(stale)) => {
            println!(
                "{label}: stale issued={} current={}",
                stale.issued, stale.current
            );
            true
        }
        Err(other) => {
            println!("{label}: NOT STALE ({other:?})");
            false
        }
        Ok(_) => {
            println!("{label}: NOT STALE (the call succeeded)");
            false
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let caps = wit::graft()?;
    let identity = caps.identity.ok_or("no identity granted")?;
    identity.public_key()?;
    let signer = identity.signer("epoch-test")?;
    signer.domain()?;
    println!("before: ok epoch={}", caps.epoch.seq);

    ready_then_wait()?;

    let top = report("top", identity.public_key());
    let returned = report("returned", signer.sign(&[0; 32], caps.epoch.seq));

    let caps = wit::graft()?;
    let identity = caps.identity.ok_or("no identity granted after the epoch")?;
    identity.public_key()?;
    println!("regraft: ok epoch={}", caps.epoch.seq);
    if top && returned {
        Ok(())
    } else {
        Err("revocation did not behave as expected".into())
    }
}
