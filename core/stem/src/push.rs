//! The writer's side: moving an Atom's head (`ww push --stem`) and
//! deploying an Atom.

use std::path::Path;
use std::str::FromStr;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, TxKind};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use alloy::transports::{RpcError, TransportError};
use cid::Cid;

use crate::atom::Atom;
use crate::StemError;

/// Reads a private key file: 32 bytes as hex (an optional `0x`, whitespace
/// around it ignored).
///
/// # Errors
///
/// The file cannot be read or is not such a key.
pub fn read_private_key(path: &Path) -> Result<PrivateKeySigner, StemError> {
    let text = std::fs::read_to_string(path).map_err(|e| StemError::Usage {
        what: "--private-key-file",
        value: path.display().to_string(),
        reason: e.to_string(),
    })?;
    PrivateKeySigner::from_str(text.trim()).map_err(|e| StemError::Usage {
        what: "--private-key-file",
        value: path.display().to_string(),
        reason: format!("{e}; expected 32 bytes as hex"),
    })
}

/// What a `setHead` did.
#[derive(Clone, Debug)]
pub struct Pushed {
    /// The block it was mined in.
    pub block: u64,
    /// The transaction.
    pub tx: String,
}

fn url(rpc_url: &str) -> Result<url::Url, StemError> {
    url::Url::parse(rpc_url).map_err(|e| StemError::Usage {
        what: "--rpc-url",
        value: rpc_url.to_string(),
        reason: e.to_string(),
    })
}

/// Why a transaction failed, with the Atom's own errors spelled out.
fn refused(what: &str, e: TransportError) -> StemError {
    if let RpcError::ErrorResp(payload) = &e {
        if let Some(error) = payload.as_decoded_interface_error::<Atom::AtomErrors>() {
            let why = match error {
                Atom::AtomErrors::NotOwner(n) => format!(
                    "{} is not the Atom's owner; sign with the key that deployed it",
                    n.caller
                ),
                Atom::AtomErrors::Unchanged(_) => {
                    "the head is already this CID (setHead refuses a no-op)".to_string()
                }
            };
            return StemError::Transaction(format!("{what} refused: {why}"));
        }
    }
    if let RpcError::Transport(kind) = &e {
        return StemError::Transaction(format!(
            "{what}: cannot reach the chain ({kind}); check --rpc-url"
        ));
    }
    StemError::Transaction(format!("{what} failed: {e}"))
}

/// Calls `setHead(cid)` on the Atom at `atom`, signed by `key`, and waits
/// for its receipt.
///
/// # Errors
///
/// A bad URL or address, an unreachable chain, or the Atom refusing (not
/// the owner, the same head again).
pub async fn set_head(
    rpc_url: &str,
    atom: &str,
    key: PrivateKeySigner,
    cid: &Cid,
) -> Result<Pushed, StemError> {
    let address: Address = atom.parse().map_err(|e| StemError::Usage {
        what: "--stem",
        value: atom.to_string(),
        reason: format!("{e}; expected a 0x-prefixed 20-byte address"),
    })?;
    let provider = ProviderBuilder::new()
        .wallet(key)
        .connect_http(url(rpc_url)?);
    let call = Atom::setHeadCall {
        newCid: Bytes::from(cid.to_bytes()),
    };
    let tx = TransactionRequest::default()
        .with_to(address)
        .with_input(call.abi_encode());
    let pending = provider
        .send_transaction(tx)
        .await
        .map_err(|e| refused("setHead", e))?;
    let receipt = pending
        .get_receipt()
        .await
        .map_err(|e| StemError::Transaction(format!("setHead: no receipt ({e})")))?;
    if !receipt.status() {
        return Err(StemError::Transaction(format!(
            "setHead reverted in transaction {}",
            receipt.transaction_hash
        )));
    }
    Ok(Pushed {
        block: receipt.block_number.unwrap_or_default(),
        tx: receipt.transaction_hash.to_string(),
    })
}

/// Deploys a new Atom owned by `key`'s account; returns its address.
///
/// # Errors
///
/// A bad URL, an unreachable chain, or a failed deployment.
pub async fn deploy(rpc_url: &str, key: PrivateKeySigner) -> Result<Address, StemError> {
    let provider = ProviderBuilder::new()
        .wallet(key)
        .connect_http(url(rpc_url)?);
    let mut tx = TransactionRequest::default().with_input(crate::atom::bytecode());
    tx.to = Some(TxKind::Create);
    let pending = provider
        .send_transaction(tx)
        .await
        .map_err(|e| refused("deploying the Atom", e))?;
    let receipt = pending
        .get_receipt()
        .await
        .map_err(|e| StemError::Transaction(format!("deploying the Atom: no receipt ({e})")))?;
    receipt
        .contract_address
        .filter(|_| receipt.status())
        .ok_or_else(|| StemError::Transaction("deploying the Atom reverted".into()))
}
