#![doc = include_str!("README.md")]

use ww_guest::wit;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let caps = wit::graft()?;
    let routing = caps.routing.ok_or("this node grants no routing")?;
    let cid = routing.hash(b"hello world\n")?;
    println!("cid: {cid}");
    println!("path: {}", routing.resolve(&cid)?);
    match routing.provide(&cid) {
        Ok(()) => println!("provided"),
        Err(e) => println!("not provided: {e:?}"),
    }
    for provider in routing.find_providers(&cid, 4)? {
        println!("provider: {}", provider.peer);
    }
    Ok(())
}
