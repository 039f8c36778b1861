//! Glia source as a shell user (local or remote, or an `etc/init.d` script)
//! types it: read, then evaluated by a fresh interpreter, with every
//! result printed. Nothing in it may panic.
//!
//! The evaluator has no fuel counter; it yields to its executor every
//! `YIELD_EVERY` steps and then honours `interrupt()`, as Ctrl-C does. The
//! harness uses that as its step budget: after `YIELDS` yields it
//! interrupts, so an input that loops forever costs a bounded number of
//! steps and ends with `Interrupted`, the way a shell session would.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ww_fuzz_harness::glia::read_eval(data);
});
