//! A head of the Atom: its sequence number and CID.

use cid::Cid;

/// One head the stem follows: `seq` from the contract and the CID its
/// bytes hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// The contract's sequence number for this head (1 for the first).
    pub seq: u64,
    /// The image this head points at.
    pub cid: Cid,
}

impl Head {
    /// The head whose CID is `bytes` (binary form).
    ///
    /// # Errors
    ///
    /// [`HeadError`] when `bytes` is not a CID.
    pub fn parse(seq: u64, bytes: &[u8]) -> Result<Head, HeadError> {
        let cid = Cid::try_from(bytes).map_err(|e| HeadError {
            seq,
            bytes: bytes.to_vec(),
            reason: e.to_string(),
        })?;
        Ok(Head { seq, cid })
    }
}

/// A head whose bytes are not a CID.
#[derive(Debug, thiserror::Error)]
#[error(
    "head seq {seq} is not a CID ({reason}; bytes 0x{}); setHead takes a CID in binary form, e.g. `ww push` writes one",
    hex::encode(bytes)
)]
pub struct HeadError {
    /// The contract's sequence number of the bad head.
    pub seq: u64,
    /// What the contract holds.
    pub bytes: Vec<u8>,
    /// Why it is not a CID.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_cid_parses_and_text_does_not() {
        let cid: Cid = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
            .parse()
            .unwrap();
        let head = Head::parse(3, &cid.to_bytes()).unwrap();
        assert_eq!(head, Head { seq: 3, cid });
        let err = Head::parse(4, b"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o").unwrap_err();
        assert!(err.to_string().contains("head seq 4 is not a CID"), "{err}");
        assert!(Head::parse(5, b"").is_err());
    }
}
