//! The operator's consent to what a provider process needs from its jail.
//!
//! A provider process runs jailed like a native cell: its program, the
//! system libraries, its directory (read-only), a scratch directory, and
//! its socket on fd 3; no network. Some providers need more (a host
//! provider runs a libp2p swarm; a store keeps files). A provider declares
//! that in its handshake ([`Needs`]); the node grants each need only when
//! the operator said so, by provider name:
//!
//! ```text
//! ww run --provider ./host-provider --provider-grant host:network ./img
//! ww run --provider ./kv --provider-grant kv:rw=/srv/kv --provider-grant kv:ro=/etc/kv.toml ./img
//! ```
//!
//! A need without its grant refuses the provider before it starts, naming
//! the flag to pass (status 2): never granted silently. A grant is checked
//! whether or not the node jails (`--no-jail` confines nothing, but the
//! operator's intent is the same).

use std::path::PathBuf;

use ww_provider_sdk::manifest::Needs;

/// One `--provider-grant NAME:WHAT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The provider's name (its manifest's).
    pub provider: String,
    /// What is granted.
    pub what: What,
}

/// A need an operator can grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum What {
    /// The host's network.
    Network,
    /// Read a host path.
    Read(PathBuf),
    /// Read and write a host path.
    Write(PathBuf),
}

/// A malformed `--provider-grant`.
#[derive(Debug, thiserror::Error)]
#[error(
    "--provider-grant {0}: expected NAME:network, NAME:ro=PATH or NAME:rw=PATH (PATH absolute), \
     e.g. --provider-grant kv:rw=/srv/kv"
)]
pub struct GrantError(pub String);

/// Parses `NAME:network`, `NAME:ro=PATH` or `NAME:rw=PATH`.
///
/// # Errors
///
/// Any other form, an empty name, a relative path.
pub fn parse(spec: &str) -> Result<Grant, GrantError> {
    let bad = || GrantError(spec.to_string());
    let (provider, what) = spec.split_once(':').ok_or_else(bad)?;
    if provider.is_empty() {
        return Err(bad());
    }
    let path = |p: &str| {
        let p = PathBuf::from(p);
        if p.is_absolute() {
            Ok(p)
        } else {
            Err(bad())
        }
    };
    let what = match what.split_once('=') {
        None if what == "network" => What::Network,
        Some(("ro", p)) => What::Read(path(p)?),
        Some(("rw", p)) => What::Write(path(p)?),
        _ => return Err(bad()),
    };
    Ok(Grant {
        provider: provider.to_string(),
        what,
    })
}

/// A need the operator did not grant: the provider is refused.
#[derive(Debug, thiserror::Error)]
#[error(
    "provider `{provider}` ({program}) needs {need}, which was not granted; to grant it pass \
     --provider-grant {flag} (or load another provider)"
)]
pub struct Ungranted {
    /// The provider.
    pub provider: String,
    /// Its program.
    pub program: String,
    /// What it needs, in words.
    pub need: String,
    /// The `--provider-grant` value that grants it.
    pub flag: String,
}

/// What the jail of `provider` may do beyond the default, when `needs` is
/// all granted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Granted {
    /// The host's network.
    pub network: bool,
    /// Trees it may read.
    pub read: Vec<PathBuf>,
    /// Trees it may read and write.
    pub write: Vec<PathBuf>,
}

/// Checks every need of `provider` against `grants`.
///
/// # Errors
///
/// The first need no grant covers.
pub fn check(
    provider: &str,
    program: &str,
    needs: &Needs,
    grants: &[Grant],
) -> Result<Granted, Ungranted> {
    let has = |what: &What| {
        grants
            .iter()
            .any(|g| g.provider == provider && g.what == *what)
    };
    let refuse = |need: String, flag: String| Ungranted {
        provider: provider.to_string(),
        program: program.to_string(),
        need,
        flag: format!("{provider}:{flag}"),
    };
    if needs.network && !has(&What::Network) {
        return Err(refuse("the host's network".into(), "network".into()));
    }
    let mut granted = Granted {
        network: needs.network,
        ..Granted::default()
    };
    for p in &needs.read {
        let path = PathBuf::from(p);
        // Read and write covers reading.
        if !has(&What::Read(path.clone())) && !has(&What::Write(path.clone())) {
            return Err(refuse(format!("to read {p}"), format!("ro={p}")));
        }
        granted.read.push(path);
    }
    for p in &needs.write {
        let path = PathBuf::from(p);
        if !has(&What::Write(path.clone())) {
            return Err(refuse(format!("to read and write {p}"), format!("rw={p}")));
        }
        granted.write.push(path);
    }
    Ok(granted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_parse() {
        assert_eq!(
            parse("host:network").unwrap(),
            Grant {
                provider: "host".into(),
                what: What::Network
            }
        );
        assert_eq!(
            parse("kv:rw=/srv/kv").unwrap().what,
            What::Write("/srv/kv".into())
        );
        assert_eq!(parse("kv:ro=/etc").unwrap().what, What::Read("/etc".into()));
        for bad in ["kv", ":network", "kv:net", "kv:ro=relative", "kv:xx=/a"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_need_must_be_granted_by_name() {
        let needs = Needs {
            network: true,
            read: vec!["/etc/kv".into()],
            write: vec!["/srv/kv".into()],
        };
        let err = check("kv", "./kv", &needs, &[]).unwrap_err();
        assert!(
            err.to_string().contains("--provider-grant kv:network"),
            "{err}"
        );
        let grants: Vec<Grant> = ["kv:network", "kv:ro=/etc/kv", "other:rw=/srv/kv"]
            .iter()
            .map(|s| parse(s).unwrap())
            .collect();
        let err = check("kv", "./kv", &needs, &grants).unwrap_err();
        assert!(err.to_string().contains("kv:rw=/srv/kv"), "{err}");
        let mut grants = grants;
        grants.push(parse("kv:rw=/srv/kv").unwrap());
        let granted = check("kv", "./kv", &needs, &grants).unwrap();
        assert!(granted.network);
        assert_eq!(granted.write, [PathBuf::from("/srv/kv")]);
        assert_eq!(
            check("kv", "./kv", &Needs::default(), &[]).unwrap(),
            Granted::default()
        );
    }
}
