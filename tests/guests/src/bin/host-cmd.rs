//! `host-cmd`: drives the node's `Host` from stdin, one command a line, so a
//! test can steer two nodes at once. Commands: `id`, `addrs`, `peers`,
//! `connect ADDR`, `hash TEXT`, `provide CID`, `find CID`, `quit`. Each answer is one stdout line starting with the
//! command's name: `id: <peer>`, `addrs: <a> <b>`, `peers: <id> <id>`,
//! `connect: ok`; a failed call prints `<command>: error <message>` and the
//! loop goes on. Prints `ready` once grafted.

use std::io::BufRead;
use std::process::ExitCode;

use std::cell::RefCell;
use std::rc::Rc;

use ww_capnp::routing_capnp::{provider_sink, routing};
use ww_capnp::system_capnp::host;

/// Collects the providers `findProviders` streams.
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Vec<String>>>);

impl provider_sink::Server for Sink {
    fn found(
        self: Rc<Self>,
        params: provider_sink::FoundParams,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let peer = params
            .get()
            .and_then(|p| p.get_peer())
            .and_then(|p| Ok(p.to_string()?));
        std::future::ready(peer.map(|p| self.0.borrow_mut().push(p)))
    }
}

async fn answer(
    host: &host::Client,
    routing: &Option<routing::Client>,
    command: &str,
    arg: &str,
) -> Result<String, capnp::Error> {
    let routing = || {
        routing
            .as_ref()
            .ok_or_else(|| capnp::Error::failed("this node grants no routing".into()))
    };
    Ok(match command {
        "hash" => {
            let mut request = routing()?.hash_request();
            request.get().set_data(arg.as_bytes());
            let reply = request.send().promise.await?;
            reply.get()?.get_key()?.to_string()?
        }
        "provide" => {
            let mut request = routing()?.provide_request();
            request.get().set_key(arg);
            request.send().promise.await?;
            "ok".to_string()
        }
        "find" => {
            let sink = Sink::default();
            let mut request = routing()?.find_providers_request();
            request.get().set_key(arg);
            request.get().set_count(20);
            request.get().set_sink(capnp_rpc::new_client(sink.clone()));
            request.send().promise.await?;
            let found = sink.0.borrow().join(" ");
            found
        }
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
        // Optional: a minimal ww with only the host plugin has no routing.
        let routing: Option<routing::Client> = caps.get("routing").ok();
        println!("ready");
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            let (command, arg) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
            if command == "quit" {
                break;
            }
            match answer(&host, &routing, command, arg.trim()).await {
                Ok(text) => println!("{command}: {text}"),
                Err(e) => println!("{command}: error {e}"),
            }
        }
        Ok(())
    })
}
