//! Keys and names (the DHT itself is exercised end to end, across nodes).

use crate::key::{dht_key, hash, resolve};

#[test]
fn hash_is_a_cidv1_raw_sha256() {
    // `printf hello | ipfs add --raw-leaves --cid-version 1` gives this CID.
    assert_eq!(
        hash(b"hello"),
        "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
    );
}

#[test]
fn v0_and_v1_of_the_same_content_share_a_dht_key() {
    let v0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";
    let v1 = cid::Cid::try_from(v0)
        .unwrap()
        .into_v1()
        .unwrap()
        .to_string();
    assert_eq!(dht_key(v0).unwrap(), dht_key(&v1).unwrap());
    assert!(dht_key("not-a-cid")
        .unwrap_err()
        .to_string()
        .contains("Routing.hash"));
}

#[test]
fn resolve_handles_what_needs_no_daemon_and_says_so_otherwise() {
    let cid = hash(b"x");
    assert_eq!(resolve(&cid).unwrap(), format!("/ipfs/{cid}"));
    assert_eq!(
        resolve(&format!("/ipfs/{cid}/a/b")).unwrap(),
        format!("/ipfs/{cid}/a/b")
    );
    for name in ["/ipns/k51qzi5uqu5d", "example.com", "nonsense"] {
        let err = resolve(name).unwrap_err().to_string();
        assert!(
            err.contains("IPFS daemon") || err.contains("neither a CID"),
            "{name}: {err}"
        );
    }
}
