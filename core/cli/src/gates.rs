//! What each command asks of this build: a command or flag whose feature
//! was compiled out is refused before anything starts (see
//! [`ww::features`]).

use ww::features::{Feature, Missing};

use crate::cli::Command;

/// `Ok` when this `ww` has every part `command` needs.
///
/// # Errors
///
/// The first part it lacks, named.
pub fn check(command: &Command) -> Result<(), Missing> {
    match command {
        Command::Run(args) => {
            if args.mcp {
                Feature::Mcp.require("--mcp")?;
            }
            if args.stem.stem.is_some() {
                Feature::Stem.require("--stem")?;
            }
            if args.compile.target.as_ref().is_some_and(|t| t.is_pulley()) {
                Feature::Pulley.require("`ww run --target pulley…`")?;
            }
        }
        Command::Shell(args) => {
            Feature::Shell.require("`ww shell`")?;
            if args.mcp {
                Feature::Mcp.require("`ww shell --mcp`")?;
            }
        }
        Command::Push {
            ipfs_url, publish, ..
        } => {
            Feature::Ipfs.require("`ww push`")?;
            if ipfs_url.is_some() {
                Feature::Kubo.require("`ww push --ipfs-url`")?;
            }
            if publish.stem.is_some() {
                Feature::Stem.require("`ww push --stem`")?;
            }
        }
        Command::Compile { target, .. } => {
            Feature::Compiler.require("`ww compile`")?;
            // Cranelift always has its Pulley backend; other machines'
            // backends come with `cross`.
            if target
                .as_ref()
                .is_some_and(|t| t.wasmtime_target().is_some() && !t.is_pulley())
            {
                Feature::Cross.require("`ww compile --target` for another machine")?;
            }
        }
        Command::Check { .. } => Feature::Ipfs.require("`ww check`")?,
        _ => {}
    }
    Ok(())
}
