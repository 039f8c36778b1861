//! The fields `ipfs.capnp`'s methods share (parameters and results), read
//! and written in one place so both backends (the embedded store and the Kubo
//! API) parse requests and answer alike.

use capnp::Error;
use cid::Cid;
use ww_capnp::ipfs_capnp::{add_options, unix_fs};

use crate::error::IpfsError;
use crate::importer::AddOptions;
use crate::path::IpfsPath;
use crate::reader::Entry;

/// A text parameter, named `what` in the error when it is not UTF-8.
pub fn text(reader: capnp::text::Reader<'_>, what: &str) -> Result<String, Error> {
    reader
        .to_string()
        .map_err(|e| Error::failed(format!("{what} is not UTF-8: {e}")))
}

/// A `path` parameter: `/ipfs/<cid>[/sub/path]` or a bare CID.
pub fn path(reader: capnp::text::Reader<'_>) -> Result<IpfsPath, Error> {
    Ok(IpfsPath::parse(&text(reader, "path")?)?)
}

/// A `cid` parameter of `pin`/`unpin`: a CID, never a path below one.
pub fn cid(reader: capnp::text::Reader<'_>) -> Result<Cid, Error> {
    let input = text(reader, "cid")?;
    let path = IpfsPath::parse(&input)?;
    if !path.segments.is_empty() {
        return Err(IpfsError::BadPath {
            input,
            reason: "pins name a CID, not a path below one".into(),
        }
        .into());
    }
    Ok(path.root)
}

/// The options of an add, defaults when absent.
pub fn add_options(reader: Option<add_options::Reader<'_>>) -> Result<AddOptions, IpfsError> {
    match reader {
        Some(o) => AddOptions::new(o.get_cid_version(), o.get_raw_leaves()),
        None => Ok(AddOptions::default()),
    }
}

/// `ls`'s answer.
pub fn set_entries(mut results: unix_fs::LsResults, entries: &[Entry]) {
    let mut list = results.get().init_entries(entries.len() as u32);
    for (i, entry) in entries.iter().enumerate() {
        let mut e = list.reborrow().get(i as u32);
        e.set_name(entry.name.as_str());
        e.set_cid(entry.cid.to_string().as_str());
        e.set_size(entry.size);
        e.set_is_directory(entry.is_directory);
    }
}
