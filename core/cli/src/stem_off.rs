//! `--stem` in a `ww` built without the `stem` feature: the same names as
//! the real [`stem`](self) module, so the node boots the same way, but
//! starting a stem is refused (as bad usage, exit 2) and no [`Stem`]
//! value can exist.

use std::rc::Rc;

use tempfile::TempDir;
use ww_core::epoch::Epochs;
use ww_core::image::Image;
use ww_provider_sdk::Export;

use crate::features::{Feature, Missing};
pub use crate::stem_options::StemOptions;

/// Why a stem cannot be followed: in this build, always because the
/// feature is compiled out.
#[derive(Debug, thiserror::Error)]
pub enum StemError {
    /// `--stem` given to a build without the `stem` feature.
    #[error("{missing}")]
    Usage {
        /// The refusal, naming the feature.
        missing: Missing,
    },
}

/// Why a node cannot follow its stem once the providers run (never, here:
/// no stem starts).
#[derive(Debug)]
pub enum StemNodeError {}

impl std::fmt::Display for StemNodeError {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {}
    }
}

impl std::error::Error for StemNodeError {}

/// A stem being followed; this build cannot make one.
pub enum Stem {}

impl Stem {
    /// Refuses: this `ww` was built without the `stem` feature.
    ///
    /// # Errors
    ///
    /// Always [`StemError::Usage`].
    pub async fn start(_: &StemOptions) -> Result<Stem, StemError> {
        Err(StemError::Usage {
            missing: Missing {
                what: "--stem",
                feature: Feature::Stem,
            },
        })
    }

    /// Unreachable: no `Stem` exists in this build.
    pub fn layers(&self, _: &[String]) -> Vec<String> {
        match *self {}
    }

    /// Unreachable: no `Stem` exists in this build.
    pub fn epochs(&self) -> Epochs {
        match *self {}
    }

    /// Unreachable: no `Stem` exists in this build.
    ///
    /// # Errors
    ///
    /// None.
    pub fn spawn(
        self,
        _: Image,
        _: Vec<String>,
        _: Option<TempDir>,
        _: Rc<Epochs>,
        _: &[Export],
    ) -> Result<(), StemNodeError> {
        match self {}
    }
}
