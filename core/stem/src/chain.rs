//! Reads from the chain over HTTP: the checks at start-up, backfill of
//! `HeadUpdated` logs, and the re-checks the finalizer makes at depth.

use alloy::eips::BlockId;
use alloy::primitives::{Address, Bytes, B256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::{BlockNumberOrTag, Filter, Log, TransactionRequest};
use alloy::sol_types::{SolCall, SolEvent};

use crate::atom::Atom;
use crate::StemError;

/// The most blocks one `eth_getLogs` asks for (public endpoints refuse
/// larger ranges).
pub const LOG_RANGE: u64 = 10_000;

/// An Atom on a chain, read over HTTP.
#[derive(Clone)]
pub struct Chain {
    http: RootProvider,
    atom: Address,
    url: String,
    chain_id: u64,
}

/// One `HeadUpdated` log as the indexer saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// The block it was mined in.
    pub block: u64,
    /// That block's hash: the update is adopted only while this block is
    /// canonical.
    pub block_hash: B256,
    /// Its position in the block.
    pub log_index: u64,
    /// The contract's new `seq`.
    pub seq: u64,
    /// The account that called `setHead`.
    pub writer: Address,
    /// The new head's bytes (a CID in binary form, if the writer was right).
    pub cid: Vec<u8>,
    /// The node reports the log reorged away.
    pub removed: bool,
}

impl Update {
    /// The update a log carries, if it is a complete `HeadUpdated` log.
    pub fn from_log(log: &Log) -> Option<Update> {
        let event = Atom::HeadUpdated::decode_log_data(log.data()).ok()?;
        Some(Update {
            block: log.block_number?,
            block_hash: log.block_hash?,
            log_index: log.log_index?,
            seq: event.seq,
            writer: event.writer,
            cid: event.cid.to_vec(),
            removed: log.removed,
        })
    }
}

impl Chain {
    /// Connects to the chain at `url` and checks that `atom` holds an Atom.
    ///
    /// # Errors
    ///
    /// [`StemError::Unreachable`] when nothing answers at `url`,
    /// [`StemError::NoContract`] when `atom` has no code, and
    /// [`StemError::NotAtom`] when its code does not answer `head()`.
    pub async fn connect(url: &str, atom: Address) -> Result<Chain, StemError> {
        let parsed = url::Url::parse(url).map_err(|e| StemError::Usage {
            what: "--rpc-url",
            value: url.to_string(),
            reason: e.to_string(),
        })?;
        let http = RootProvider::new_http(parsed);
        let chain_id = http
            .get_chain_id()
            .await
            .map_err(|e| StemError::Unreachable {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        let chain = Chain {
            http,
            atom,
            url: url.to_string(),
            chain_id,
        };
        let code = chain
            .http
            .get_code_at(atom)
            .await
            .map_err(|e| chain.rpc("eth_getCode", e))?;
        if code.is_empty() {
            return Err(StemError::NoContract {
                address: atom.to_string(),
                url: url.to_string(),
                chain_id,
            });
        }
        let tip = chain.tip().await?;
        let not_atom = |reason: String| StemError::NotAtom {
            address: atom.to_string(),
            reason,
        };
        let out = chain
            .call_head(tip)
            .await
            .map_err(|e| not_atom(e.to_string()))?;
        Atom::headCall::abi_decode_returns(&out)
            .map_err(|e| not_atom(format!("answered 0x{} ({e})", hex::encode(&out))))?;
        Ok(chain)
    }

    /// The chain's id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The Atom's address.
    pub fn atom(&self) -> Address {
        self.atom
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn rpc(&self, call: &'static str, e: impl std::fmt::Display) -> StemError {
        StemError::Rpc {
            call,
            url: self.url.clone(),
            reason: e.to_string(),
        }
    }

    /// The latest block number.
    pub async fn tip(&self) -> Result<u64, StemError> {
        self.http
            .get_block_number()
            .await
            .map_err(|e| self.rpc("eth_blockNumber", e))
    }

    /// The canonical hash of block `number`, if the chain has it.
    pub async fn block_hash(&self, number: u64) -> Result<Option<B256>, StemError> {
        let block = self
            .http
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .await
            .map_err(|e| self.rpc("eth_getBlockByNumber", e))?;
        Ok(block.map(|b| b.header.hash))
    }

    async fn call_head(&self, number: u64) -> Result<Bytes, StemError> {
        let call = TransactionRequest::default()
            .to(self.atom)
            .input(Bytes::from(Atom::headCall {}.abi_encode()).into());
        self.http
            .call(call)
            .block(BlockId::number(number))
            .await
            .map_err(|e| self.rpc("head()", e))
    }

    /// `head()` as of block `number`: `(seq, cid bytes)`; `(0, [])` before
    /// the Atom was deployed.
    pub async fn head_at(&self, number: u64) -> Result<(u64, Vec<u8>), StemError> {
        let out = self.call_head(number).await?;
        if out.is_empty() {
            return Ok((0, Vec::new()));
        }
        let head =
            Atom::headCall::abi_decode_returns(&out).map_err(|e| self.rpc("head() decoding", e))?;
        Ok((head._0, head._1.to_vec()))
    }

    /// The `HeadUpdated` filter for this Atom.
    pub fn filter(&self) -> Filter {
        Filter::new()
            .address(self.atom)
            .event_signature(Atom::HeadUpdated::SIGNATURE_HASH)
    }

    /// Every `HeadUpdated` of blocks `from..=to`, in chain order, asked for
    /// in ranges of at most [`LOG_RANGE`] blocks.
    pub async fn updates(&self, from: u64, to: u64) -> Result<Vec<Update>, StemError> {
        let mut out = Vec::new();
        let mut start = from;
        while start <= to {
            let end = to.min(start.saturating_add(LOG_RANGE - 1));
            let filter = self.filter().from_block(start).to_block(end);
            let logs = self
                .http
                .get_logs(&filter)
                .await
                .map_err(|e| self.rpc("eth_getLogs", e))?;
            out.extend(logs.iter().filter_map(Update::from_log));
            start = end + 1;
        }
        Ok(out)
    }
}
