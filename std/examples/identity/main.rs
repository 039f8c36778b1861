#![doc = include_str!("README.md")]

use ww_guest::wit;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let caps = wit::graft()?;
    let identity = caps.identity.ok_or("this node grants no identity")?;
    let key = identity.public_key()?;
    println!("public key: {}", hex(&key));

    let domain = "example";
    let message = b"hello";
    let signer = identity.signer(domain)?;
    let signature = signer.sign(message, caps.epoch.seq)?;
    println!("signature: {}", hex(&signature));

    // What the signer signed: domain, a zero byte, the message, the epoch.
    let mut signed = domain.as_bytes().to_vec();
    signed.push(0);
    signed.extend_from_slice(message);
    signed.extend_from_slice(&caps.epoch.seq.to_be_bytes());
    println!("verified: {}", identity.verify(&signed, &signature, &key)?);
    Ok(())
}
