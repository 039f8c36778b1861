//! The provider's configuration keys.

use std::path::PathBuf;
use std::time::Duration;

use ww_provider_sdk::manifest::ConfigKey;
use ww_provider_sdk::{Context, Error};

use crate::blocks::DEFAULT_FETCH_TIMEOUT;

/// Where the node keeps its data (blocks under `<dir>/ipfs/`).
pub const DATA_DIR: &str = "data-dir";

/// Seconds a block may take to arrive from peers.
pub const FETCH_TIMEOUT: &str = "ipfs-fetch-timeout";

/// A Kubo-compatible RPC API to use instead of the embedded store.
pub const IPFS_URL: &str = "ipfs-url";

/// MiB the store may hold before blocks no pin reaches are collected.
pub const STORE_MAX: &str = "ipfs-store-max";

/// The keys, for the manifest.
pub fn keys() -> Vec<ConfigKey> {
    vec![
        ConfigKey {
            key: DATA_DIR.into(),
            help: "the node's data directory; IPFS blocks and pins go to DIR/ipfs [default: ~/.ww]"
                .into(),
            required: false,
        },
        ConfigKey {
            key: FETCH_TIMEOUT.into(),
            help: format!(
                "seconds a block may take to arrive from peers [default: {}]",
                DEFAULT_FETCH_TIMEOUT.as_secs()
            ),
            required: false,
        },
        ConfigKey {
            key: STORE_MAX.into(),
            help: "MiB the embedded store may hold; past it, blocks no pin reaches (fetched \
                   for reading, never pinned) are collected [default: no limit]"
                .into(),
            required: false,
        },
        ConfigKey {
            key: IPFS_URL.into(),
            help: "serve ipfs through this Kubo-compatible RPC API (e.g. http://127.0.0.1:5001) \
                   instead of the embedded store and Bitswap"
                .into(),
            required: false,
        },
    ]
}

/// `~/.ww`, the data directory when none is given.
pub fn default_data_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".ww"))
}

/// The settings in `ctx`.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The fetch timeout.
    pub fetch_timeout: Duration,
    /// The Kubo RPC API to use, when one is configured.
    pub ipfs_url: Option<String>,
    /// Bytes the store may hold before a collection, when limited.
    pub store_max: Option<u64>,
}

impl Settings {
    /// Reads `ctx`'s config.
    ///
    /// # Errors
    ///
    /// A timeout that is not a positive number, or no data directory and no
    /// `HOME` to default to.
    pub fn from_context(ctx: &Context) -> Result<Settings, Error> {
        let data_dir = match ctx.config(DATA_DIR) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => match default_data_dir() {
                Some(dir) => dir,
                None => {
                    return Err(Error::Config {
                        key: DATA_DIR.into(),
                        reason: "was not given and HOME is not set; pass --data-dir DIR".into(),
                    })
                }
            },
        };
        let fetch_timeout = match ctx.config(FETCH_TIMEOUT) {
            None => DEFAULT_FETCH_TIMEOUT,
            Some(text) => match text.trim().parse::<f64>() {
                Ok(secs) if secs > 0.0 && secs.is_finite() => Duration::from_secs_f64(secs),
                _ => {
                    return Err(Error::Config {
                        key: FETCH_TIMEOUT.into(),
                        reason: format!("`{text}` is not a positive number of seconds"),
                    })
                }
            },
        };
        let ipfs_url = ctx
            .config(IPFS_URL)
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(str::to_string);
        let store_max = match ctx.config(STORE_MAX) {
            None => None,
            Some(text) => match text.trim().parse::<u64>() {
                Ok(mib) if mib > 0 && mib < 1 << 40 => Some(mib << 20),
                _ => {
                    return Err(Error::Config {
                        key: STORE_MAX.into(),
                        reason: format!("`{text}` is not a positive whole number of MiB"),
                    })
                }
            },
        };
        Ok(Settings {
            data_dir,
            fetch_timeout,
            ipfs_url,
            store_max,
        })
    }
}
