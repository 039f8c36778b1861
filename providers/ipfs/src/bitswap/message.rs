//! Bitswap's protobuf message (`bitswap/message/pb/message.proto`, proto3),
//! for versions 1.0.0 to 1.2.0, and the CID prefixes of its blocks.

use cid::{Cid, Version};
use multihash::Multihash;
use sha2::{Digest, Sha256};

use crate::blockstore::SHA2_256;

/// One Bitswap message: wants, blocks and presences, any of them empty.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Message {
    /// What the sender wants (or no longer wants).
    #[prost(message, optional, tag = "1")]
    pub wantlist: Option<Wantlist>,
    /// Blocks as Bitswap 1.0.0 sends them (CIDv0, sha2-256 implied).
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub blocks: Vec<Vec<u8>>,
    /// Blocks with their CID prefix (1.1.0 and later).
    #[prost(message, repeated, tag = "3")]
    pub payload: Vec<Block>,
    /// HAVE / DONT_HAVE answers (1.2.0).
    #[prost(message, repeated, tag = "4")]
    pub block_presences: Vec<BlockPresence>,
    /// Bytes the sender still has queued for the receiver.
    #[prost(int32, tag = "5")]
    pub pending_bytes: i32,
}

/// A wantlist, whole or as changes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Wantlist {
    /// The entries.
    #[prost(message, repeated, tag = "1")]
    pub entries: Vec<Entry>,
    /// Whether this replaces the sender's previous wantlist.
    #[prost(bool, tag = "2")]
    pub full: bool,
}

/// One want (or cancel).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Entry {
    /// The CID, as bytes.
    #[prost(bytes = "vec", tag = "1")]
    pub block: Vec<u8>,
    /// Higher is sooner.
    #[prost(int32, tag = "2")]
    pub priority: i32,
    /// Withdraws an earlier want.
    #[prost(bool, tag = "3")]
    pub cancel: bool,
    /// [`WantType`]: the block itself, or only whether the peer has it.
    #[prost(enumeration = "WantType", tag = "4")]
    pub want_type: i32,
    /// Ask for an explicit DONT_HAVE when the peer lacks the block.
    #[prost(bool, tag = "5")]
    pub send_dont_have: bool,
}

/// What a want asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum WantType {
    /// Send the block.
    Block = 0,
    /// Say whether you have it.
    Have = 1,
}

/// A block and the prefix of its CID.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Block {
    /// CID version, codec, multihash code and length, as varints.
    #[prost(bytes = "vec", tag = "1")]
    pub prefix: Vec<u8>,
    /// The block's bytes.
    #[prost(bytes = "vec", tag = "2")]
    pub data: Vec<u8>,
}

/// Whether the sender has a block.
#[derive(Clone, PartialEq, prost::Message)]
pub struct BlockPresence {
    /// The CID, as bytes.
    #[prost(bytes = "vec", tag = "1")]
    pub cid: Vec<u8>,
    /// [`PresenceType`].
    #[prost(enumeration = "PresenceType", tag = "2")]
    pub r#type: i32,
}

/// HAVE or DONT_HAVE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum PresenceType {
    /// The sender has the block.
    Have = 0,
    /// The sender does not have it.
    DontHave = 1,
}

/// The prefix of `cid`: version, codec, multihash code, digest length.
pub fn prefix(cid: &Cid) -> Vec<u8> {
    let mut out = Vec::with_capacity(8);
    let mut buf = unsigned_varint::encode::u64_buffer();
    let version: u64 = match cid.version() {
        Version::V0 => 0,
        Version::V1 => 1,
    };
    for n in [
        version,
        cid.codec(),
        cid.hash().code(),
        cid.hash().size() as u64,
    ] {
        out.extend_from_slice(unsigned_varint::encode::u64(n, &mut buf));
    }
    out
}

/// The CID of `data` under `prefix`, hashing it (only sha2-256 prefixes are
/// accepted, so the hash is computed here, never taken from the sender).
///
/// # Errors
///
/// A malformed prefix or another hash function, in words.
pub fn cid_of(prefix: &[u8], data: &[u8]) -> Result<Cid, String> {
    let mut rest = prefix;
    let mut next = |what: &str| {
        let (n, tail) = unsigned_varint::decode::u64(rest)
            .map_err(|e| format!("block prefix: bad {what}: {e}"))?;
        rest = tail;
        Ok::<u64, String>(n)
    };
    let version = next("version")?;
    let codec = next("codec")?;
    let code = next("multihash code")?;
    let len = next("digest length")?;
    if code != SHA2_256 || len != 32 {
        return Err(format!(
            "block prefix names multihash {code:#x} of {len} bytes; only sha2-256 is accepted"
        ));
    }
    let hash = Multihash::<64>::wrap(SHA2_256, &Sha256::digest(data)).map_err(|e| e.to_string())?;
    match version {
        0 => Cid::new_v0(hash).map_err(|e| e.to_string()),
        1 => Ok(Cid::new_v1(codec, hash)),
        v => Err(format!("block prefix: CID version {v} does not exist")),
    }
}

/// The CIDv0 of a Bitswap 1.0.0 block.
///
/// # Errors
///
/// Never in practice (a sha2-256 digest always fits).
pub fn cid_v0_of(data: &[u8]) -> Result<Cid, String> {
    cid_of(&[0, 0x70, 0x12, 32], data)
}
