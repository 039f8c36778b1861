//! A child that exports a capability back to its parent: an `Executor`
//! whose `echo` answers "child echoes <message>". It serves until stopped.

use std::process::ExitCode;
use std::rc::Rc;

use ww_capnp::system_capnp::executor;

struct Echo;

impl executor::Server for Echo {
    async fn echo(
        self: Rc<Self>,
        params: executor::EchoParams,
        mut results: executor::EchoResults,
    ) -> Result<(), capnp::Error> {
        let message = params.get()?.get_message()?.to_str()?;
        results
            .get()
            .set_response(format!("child echoes {message}"));
        Ok(())
    }
}

fn main() -> ExitCode {
    let echo: executor::Client = capnp_rpc::new_client(Echo);
    ww_guest::run_exporting(echo.client, |_membrane| std::future::pending())
}
