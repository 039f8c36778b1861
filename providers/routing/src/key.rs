//! Keys are CIDs: hashing data into one, parsing one, and resolving names.

use cid::Cid;
use multihash::Multihash;
use sha2::{Digest, Sha256};

/// The raw-bytes multicodec: what `hash` puts in its CIDs.
pub const RAW_CODEC: u64 = 0x55;

/// The sha2-256 multihash code.
pub const SHA2_256: u64 = 0x12;

/// CIDv1 (raw codec) of the sha2-256 multihash of `data`, as text (base32,
/// `bafkrei…`).
pub fn hash(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    // A 32-byte digest always fits a 64-byte multihash.
    let hash = Multihash::<64>::wrap(SHA2_256, &digest).expect("32 bytes fit");
    Cid::new_v1(RAW_CODEC, hash).to_string()
}

/// The DHT key of a CID: its multihash bytes (so a CIDv0 and a CIDv1 of
/// the same content meet, as in IPFS).
///
/// # Errors
///
/// When `text` is not a CID, saying how to make one.
pub fn dht_key(text: &str) -> Result<Vec<u8>, capnp::Error> {
    let text = text.trim();
    let text = text.strip_prefix("/ipfs/").unwrap_or(text);
    let cid = Cid::try_from(text).map_err(|e| {
        capnp::Error::failed(format!(
            "`{text}` is not a CID ({e}); make one with Routing.hash(data)"
        ))
    })?;
    Ok(cid.hash().to_bytes())
}

/// Resolves `name` to an `/ipfs/` path, where that needs no IPFS daemon:
/// a CID or an `/ipfs/` path resolves to itself.
///
/// # Errors
///
/// IPNS names and DNSLink domains (they need an IPFS daemon), and anything
/// that is not a CID.
pub fn resolve(name: &str) -> Result<String, capnp::Error> {
    let name = name.trim();
    if name.starts_with("/ipns/") || (name.contains('.') && !name.starts_with("/ipfs/")) {
        return Err(capnp::Error::failed(format!(
            "resolving `{name}` needs IPNS or DNSLink, which this node cannot do without an \
             IPFS daemon; give an /ipfs/<cid> path or a CID"
        )));
    }
    let (cid, rest) = match name.strip_prefix("/ipfs/") {
        Some(path) => path.split_once('/').unwrap_or((path, "")),
        None => (name, ""),
    };
    let cid = Cid::try_from(cid).map_err(|e| {
        capnp::Error::failed(format!(
            "`{name}` is neither a CID nor an /ipfs/<cid> path ({e})"
        ))
    })?;
    Ok(if rest.is_empty() {
        format!("/ipfs/{cid}")
    } else {
        format!("/ipfs/{cid}/{rest}")
    })
}
