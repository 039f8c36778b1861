//! The identity provider as a process: `ww run --provider ./ww-identity`
//! runs it jailed, over a socket at fd 3, instead of in ww's own address
//! space (`libww_identity.so`, or built in).

fn main() -> std::process::ExitCode {
    ww_provider_sdk::serve(ww_identity::provider())
}
