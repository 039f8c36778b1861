//! Restarting provider processes that end (`--provider-restart`).
//!
//! A provider process that exits, aborts or crashes takes only itself
//! down. Its supervisor logs how it ended (an ERROR naming the provider,
//! its pid and, e.g., "was killed by signal 9 (SIGKILL)"), then, unless the
//! policy is [`Restart::Off`], starts it again after a back-off: with the
//! same config and the same required capabilities, through the same
//! handshake and `Plugin.start`. Its new exports replace the old ones in
//! the node's [`Exports`], so the next graft hands them out; capabilities
//! handed out before keep failing with `providerDown`.
//!
//! The back-off doubles from [`Restart::Backoff`]'s `initial` up to its
//! `max` while the provider keeps dying young (within [`STABLE`] of its
//! start, or on every failed restart), and starts over once a run lasted
//! longer: a provider that crashes at once is not restarted in a hot loop,
//! and one that crashes once a day restarts at once.
//!
//! Hazard: a provider that *requires* a process provider's export keeps
//! the capability it was started with; after a restart of the one it
//! requires, its calls through it fail with `providerDown` (it is not
//! restarted with it).

use std::collections::BTreeMap;
use std::rc::Rc;
use std::str::FromStr;
use std::time::{Duration, Instant};

use ww_provider_sdk::Export;

use super::exports::Exports;
use super::life::Life;
use super::process::ProcessProvider;

/// A run longer than this resets the back-off.
pub const STABLE: Duration = Duration::from_secs(10);

/// What the node does when a provider process ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// Start it again after a delay that doubles while it keeps dying.
    Backoff {
        /// The first delay.
        initial: Duration,
        /// The longest delay.
        max: Duration,
    },
    /// Leave it down: its capabilities fail from then on.
    Off,
}

impl Default for Restart {
    fn default() -> Restart {
        Restart::Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(30),
        }
    }
}

impl Restart {
    /// Whether a provider that ends is started again.
    pub fn restarts(&self) -> bool {
        matches!(self, Restart::Backoff { .. })
    }
}

impl FromStr for Restart {
    type Err = String;

    /// `backoff` (100 ms doubling to 30 s), `backoff:INITIAL_MS-MAX_MS`,
    /// or `off`.
    fn from_str(s: &str) -> Result<Restart, String> {
        let usage = || {
            format!(
                "expected `backoff` (100 ms doubling to 30 s), `backoff:MIN_MS-MAX_MS` or `off`, \
                 got `{s}`"
            )
        };
        match s {
            "off" => Ok(Restart::Off),
            "backoff" => Ok(Restart::default()),
            _ => {
                let range = s.strip_prefix("backoff:").ok_or_else(usage)?;
                let (min, max) = range.split_once('-').ok_or_else(usage)?;
                let ms = |v: &str| v.trim().parse::<u64>().map_err(|_| usage());
                let (min, max) = (ms(min)?, ms(max)?);
                if min == 0 || max < min {
                    return Err(usage());
                }
                Ok(Restart::Backoff {
                    initial: Duration::from_millis(min),
                    max: Duration::from_millis(max),
                })
            }
        }
    }
}

/// Watches `provider`'s run `life` and restarts it as its policy says,
/// for as long as the node runs (a task on the node's `LocalSet`).
pub async fn supervise(
    provider: Rc<ProcessProvider>,
    mut life: Rc<Life>,
    config: BTreeMap<String, String>,
    requires: Vec<Export>,
    exports: Exports,
) {
    let name = provider.name().to_string();
    let Restart::Backoff { initial, max } = provider.restart() else {
        let ending = life.ended().await;
        tracing::error!(
            target: "ww::provider",
            provider = %name,
            "provider `{name}` (pid {}) {ending}; it stays down (--provider-restart off): calls on \
             its capabilities fail",
            life.pid
        );
        return;
    };
    let mut delay = initial;
    loop {
        let ending = life.ended().await;
        if life.ran() >= STABLE {
            delay = initial;
        }
        tracing::error!(
            target: "ww::provider",
            provider = %name,
            "provider `{name}` (pid {}) {ending}; its capabilities fail until it restarts, in \
             {delay:?}",
            life.pid
        );
        loop {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(max);
            let since = Instant::now();
            match provider.start(config.clone(), requires.clone()).await {
                Ok((new, run)) => {
                    exports.replace(new);
                    tracing::info!(
                        target: "ww::provider",
                        provider = %name,
                        "provider `{name}` restarted (pid {}) in {:.1?}; cells get its new \
                         capabilities at their next graft",
                        run.pid,
                        since.elapsed()
                    );
                    life = run;
                    break;
                }
                Err(e) => tracing::warn!(
                    target: "ww::provider",
                    provider = %name,
                    "provider `{name}` could not be restarted: {e}; trying again in {delay:?}"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse() {
        assert_eq!("off".parse::<Restart>(), Ok(Restart::Off));
        assert_eq!("backoff".parse::<Restart>(), Ok(Restart::default()));
        assert_eq!(
            "backoff:5-50".parse::<Restart>(),
            Ok(Restart::Backoff {
                initial: Duration::from_millis(5),
                max: Duration::from_millis(50)
            })
        );
        for bad in [
            "",
            "on",
            "backoff:",
            "backoff:5",
            "backoff:50-5",
            "backoff:0-1",
        ] {
            assert!(bad.parse::<Restart>().is_err(), "{bad}");
        }
    }
}
