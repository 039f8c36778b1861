//! A TCP relay between the stem and anvil that a test can cut and restore,
//! to drop the WebSocket while the chain goes on.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Relays 127.0.0.1:port to a target port.
pub struct Proxy {
    addr: SocketAddr,
    target: u16,
    open: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    /// Relays a fresh loopback port to `target`.
    pub fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let mut proxy = Proxy {
            addr: listener.local_addr().unwrap(),
            target,
            open: Arc::new(AtomicBool::new(false)),
            streams: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    /// `ws://` through the relay.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    fn serve(&mut self, listener: TcpListener) {
        self.open.store(true, Ordering::SeqCst);
        let (open, streams, target) = (self.open.clone(), self.streams.clone(), self.target);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if !open.load(Ordering::SeqCst) {
                    break; // the wake-up connection of `cut`
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let mut held = streams.lock().unwrap();
                held.push(client.try_clone().unwrap());
                held.push(server.try_clone().unwrap());
                relay(client.try_clone().unwrap(), server.try_clone().unwrap());
                relay(server, client);
            }
        });
    }

    /// Closes every relayed connection and refuses new ones.
    pub fn cut(&mut self) {
        self.open.store(false, Ordering::SeqCst);
        // Wake the accept loop so it drops the listener.
        let _ = TcpStream::connect(self.addr);
        for stream in self.streams.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        // Refused from here on: the listener is gone once the loop ends.
        ww_tests::anvil::wait_until("the relay stops listening", || {
            TcpStream::connect(self.addr).is_err()
        });
    }

    /// Listens again on the same port.
    pub fn restore(&mut self) {
        let listener = TcpListener::bind(self.addr).expect("rebind proxy port");
        self.serve(listener);
    }
}

fn relay(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}
