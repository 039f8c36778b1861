//! The Atom contract itself: the committed bytecode is what its source
//! compiles to, and its rules hold on a real chain.

use std::process::Command;

use alloy::sol_types::SolCall;
use cid::Cid;
use ww_stem::atom::Atom;
use ww_stem::push;
use ww_tests::anvil::{self, Anvil, ACCOUNT_KEY, OTHER_KEY};

#[test]
fn the_committed_bytecode_is_what_the_source_compiles_to() {
    let contracts = anvil::workspace().join("core/stem/contracts");
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("node")
        .arg(anvil::solcjs())
        .args(["--bin", "--abi", "--optimize", "-o"])
        .arg(out.path())
        .arg("Atom.sol")
        .current_dir(&contracts)
        .status()
        .expect("run solcjs with node");
    assert!(status.success(), "solcjs failed on Atom.sol");
    let compiled = std::fs::read_to_string(out.path().join("Atom_sol_Atom.bin")).unwrap();
    assert_eq!(
        compiled.trim(),
        anvil::atom_bytecode(),
        "contracts/Atom.bin is stale: recompile with `solcjs --bin --abi --optimize` and commit it"
    );
}

#[test]
fn the_harness_encodes_set_head_like_the_abi() {
    let cid = vec![1u8, 2, 3];
    let call = Atom::setHeadCall {
        newCid: cid.clone().into(),
    };
    assert_eq!(
        hex::encode(call.abi_encode()),
        anvil::set_head_calldata(&cid)
    );
}

fn key(hex: &str) -> alloy::signers::local::PrivateKeySigner {
    hex.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_moves_the_head_and_never_to_the_same_head() {
    let anvil = Anvil::start();
    let url = anvil.http_url();
    let atom = push::deploy(&url, key(ACCOUNT_KEY))
        .await
        .unwrap()
        .to_string();
    let a: Cid = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
        .parse()
        .unwrap();
    let head = || {
        anvil.rpc(
            "eth_call",
            &format!(r#"[{{"to":"{atom}","data":"0x8f7dcfa3"}},"latest"]"#),
        )
    };
    let empty = head();

    let pushed = push::set_head(&url, &atom, key(ACCOUNT_KEY), &a)
        .await
        .unwrap();
    assert!(pushed.block > 0);
    assert_ne!(head(), empty);
    let decoded = Atom::headCall::abi_decode_returns(
        &hex::decode(head().as_str().unwrap().trim_start_matches("0x")).unwrap(),
    )
    .unwrap();
    assert_eq!((decoded._0, decoded._1.to_vec()), (1, a.to_bytes()));

    let err = push::set_head(&url, &atom, key(ACCOUNT_KEY), &a)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("the head is already this CID"), "{err}");
    let err = push::set_head(&url, &atom, key(OTHER_KEY), &"bafkqaaa".parse().unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not the Atom's owner"), "{err}");
}
