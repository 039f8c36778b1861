#![doc = include_str!("README.md")]

use ww_guest::wit;

/// The protocol this example speaks (cells' protocols live under `/ww/`).
const PROTOCOL: &str = "/ww/example/upcase/1.0.0";

/// Bytes asked for per `read`.
const CHUNK: u32 = 64 * 1024;

const USAGE: &str = "usage: example-stream serve | call MULTIADDR/p2p/PEER MESSAGE";

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Answers every stream on [`PROTOCOL`] with what it read, upper-cased.
fn serve(host: &wit::Node) -> Res<()> {
    let network = host.network()?;
    let incoming = network.listener.listen(PROTOCOL)?;
    println!("id: {}", host.id()?);
    // `Host.addrs` gives dialable addresses: each already ends in
    // /p2p/<this node's id>.
    for addr in host.addrs()? {
        println!("addr: {addr}");
    }
    println!("serving {PROTOCOL}");
    loop {
        let inbound = incoming.accept()?;
        let request = inbound.stream.read_to_end(CHUNK)?;
        println!("{} sent {} bytes", inbound.peer, request.len());
        inbound.stream.write(&request.to_ascii_uppercase())?;
        inbound.stream.close()?;
    }
}

/// Sends `message` to the server at `addr` and prints its answer.
fn call(host: &wit::Node, addr: &str, message: &str) -> Res<()> {
    let peer = addr
        .rsplit_once("/p2p/")
        .map(|(_, peer)| peer)
        .ok_or("the address must end in /p2p/<peer id>")?;
    host.connect(addr)?;
    let stream = host.network()?.dialer.dial(peer, PROTOCOL)?;
    stream.write(message.as_bytes())?;
    stream.close()?;
    let answer = stream.read_to_end(CHUNK)?;
    println!("answer: {}", String::from_utf8_lossy(&answer));
    Ok(())
}

fn main() -> Res<()> {
    let caps = wit::graft()?;
    let host = caps.host.ok_or("this node grants no host")?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["serve"] => serve(&host),
        ["call", addr, message] => call(&host, addr, message),
        _ => Err(USAGE.into()),
    }
}
