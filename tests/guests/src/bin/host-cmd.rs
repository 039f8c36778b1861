//! `host-cmd`: drives the node's `Host` from stdin, one command a line, so a
//! test can steer two nodes at once. Commands: `id`, `addrs`, `peers`,
//! `connect ADDR`, `quit`. Each answer is one stdout line starting with the
//! command's name: `id: <peer>`, `addrs: <a> <b>`, `peers: <id> <id>`,
//! `connect: ok`; a failed call prints `<command>: error <message>` and the
//! loop goes on. Prints `ready` once grafted.

use std::io::BufRead;
use std::process::ExitCode;

use ww_capnp::system_capnp::host;

async fn answer(host: &host::Client, command: &str, arg: &str) -> Result<String, capnp::Error> {
    Ok(match command {
        "id" => {
            let reply = host.id_request().send().promise.await?;
            reply.get()?.get_peer_id()?.to_string()?
        }
        "addrs" => {
            let reply = host.addrs_request().send().promise.await?;
            let mut addrs = Vec::new();
            for addr in reply.get()?.get_addrs()? {
                addrs.push(addr?.to_string()?);
            }
            addrs.join(" ")
        }
        "peers" => {
            let reply = host.peers_request().send().promise.await?;
            let mut peers = Vec::new();
            for peer in reply.get()?.get_peers()? {
                peers.push(peer.get_id()?.to_string()?);
            }
            peers.join(" ")
        }
        "connect" => {
            let mut request = host.connect_request();
            request.get().set_addr(arg);
            request.send().promise.await?;
            "ok".to_string()
        }
        other => return Err(capnp::Error::failed(format!("unknown command {other:?}"))),
    })
}

fn main() -> ExitCode {
    ww_guest::run(|membrane| async move {
        let caps = ww_guest::graft(&membrane).await?;
        let host: host::Client = caps.get("host")?;
        println!("ready");
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            let (command, arg) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
            if command == "quit" {
                break;
            }
            match answer(&host, command, arg.trim()).await {
                Ok(text) => println!("{command}: {text}"),
                Err(e) => println!("{command}: error {e}"),
            }
        }
        Ok(())
    })
}
