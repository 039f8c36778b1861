//! Layer arguments (`DIR`, `SOURCE:/guest/path`, `/ipfs/<cid>[/path]`) and
//! the `/ipfs/` paths cells give `cat` and `ls`: the core's layer parser
//! ([`Layer::parse`]), its IPFS-source test ([`ipfs_source`]), and the IPFS
//! provider's path and CID parsers. An input is the text (UTF-8; anything
//! else is skipped).
//!
//! Besides never panicking, what must hold: a mount target is a relative
//! path of normal components (it cannot climb out of the image root), the
//! IPFS source of a layer is an `/ipfs/` path, and a parsed IPFS path
//! prints as a path that parses back to itself.

use std::path::Component;

use ww::ipfs_layers::ipfs_source;
use ww_core::image::Layer;
use ww_ipfs::path::{parse_cid, IpfsPath};

/// Parses one input every way a layer argument or an IPFS path is parsed.
///
/// # Panics
///
/// When one of the properties in the module docs does not hold.
pub fn parse(data: &[u8]) {
    let Ok(arg) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(Layer::Mount { source, target }) = Layer::parse(arg) {
        assert!(
            !source.as_os_str().is_empty(),
            "{arg:?}: empty mount source"
        );
        assert!(
            target.components().next().is_some()
                && target
                    .components()
                    .all(|c| matches!(c, Component::Normal(_))),
            "{arg:?}: mount target {target:?} can leave the image root"
        );
    }
    if let Some(source) = ipfs_source(arg) {
        assert!(source.starts_with("/ipfs/"), "{arg:?}: source {source:?}");
        round_trip(&source);
    }
    round_trip(arg);
    let _ = parse_cid(arg);
}

/// A path that parses prints as one that parses back to it.
fn round_trip(text: &str) {
    if let Ok(path) = IpfsPath::parse(text) {
        assert!(
            path.segments
                .iter()
                .all(|s| !s.is_empty() && !s.contains('/')),
            "{text:?}: segments {:?}",
            path.segments
        );
        let printed = path.to_string();
        let again = IpfsPath::parse(&printed)
            .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
        assert_eq!(again, path, "{text:?} printed as {printed:?}");
    }
}
