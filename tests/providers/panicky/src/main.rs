//! The fixture provider as a process: the `.so` and this executable are
//! one crate, so the same tests run against both.

fn main() -> std::process::ExitCode {
    ww_provider_sdk::serve(ww_test_provider_panicky::FixtureProvider)
}
