#![doc = include_str!("README.md")]

use ww_guest::wit;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let caps = wit::graft()?;
    let host = caps.host.ok_or("this node grants no host")?;
    println!("peer id: {}", host.id()?);
    for addr in host.addrs()? {
        println!("listening on {addr}");
    }
    let peers = host.peers()?;
    println!("peers: {}", peers.len());
    for peer in peers {
        println!("  {} at {}", peer.id, peer.addrs.join(", "));
    }
    Ok(())
}
