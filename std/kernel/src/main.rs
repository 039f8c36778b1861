//! pid0 of a ww node (first version): grafts the Membrane and lists what the
//! node granted, one line per capability — name, interface, methods.
//!
//! ```text
//! ww kernel: epoch 1, 1 capability
//!   identity  Identity  publicKey signer verify
//! ```
//!
//! Init scripts and the Glia shell come later.

mod listing;

use std::process::ExitCode;

fn main() -> ExitCode {
    ww_guest::run(|membrane| async move {
        let caps = ww_guest::graft(&membrane).await?;
        let rows: Vec<listing::Row> = caps
            .iter()
            .map(|export| listing::Row {
                name: export.name().to_string(),
                interface: export.interface_name(),
                methods: export.method_names(),
            })
            .collect();
        print!("{}", listing::render(caps.epoch(), &rows));
        Ok(())
    })
}
