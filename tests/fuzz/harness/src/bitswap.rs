//! A peer's Bitswap stream as the IPFS provider receives it: a real
//! [`Bitswap`] engine over a real blockstore, handed an inbound stream on
//! its own `StreamHandler` (as the host's swarm hands it one), whose bytes
//! are the input. The engine reads length-prefixed protobuf messages from
//! it and acts on them: stores wanted blocks, records DONT_HAVE, answers
//! wantlists from the store, remembers wants it cannot meet yet.
//!
//! The host's `wire` and `host` capabilities are small stand-ins here (the
//! swarm needs a network): `wire.listen` hands over the engine's handler,
//! `wire.dial` gives a stream that swallows the engine's answers, and
//! `host.peers` is empty.
//!
//! An input is one byte choosing the read size, `16 << (b & 7)`, and then
//! the bytes of the stream.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use capnp::Error;
use cid::Cid;
use ww_capnp::system_capnp::{byte_stream, host, stream_handler};
use ww_capnp::wire_capnp::wire;
use ww_ipfs::bitswap::Bitswap;
use ww_ipfs::blockstore::Blockstore;
use ww_ipfs::reader::RAW;

use crate::blocks::cid_of;
use crate::{run_local, TURNS};

/// A block the store holds: a want for it is answered.
pub const STORED: &[u8] = b"hello world\n";
/// A block the engine wants: receiving it wakes a fetch.
pub const WANTED: &[u8] = b"wanted block\n";

/// The peer the stream comes from.
pub const PEER: &str = "12D3KooWFuzzPeerFuzzPeerFuzzPeerFuzzPeerFuzzPeer";

/// The CIDs of [`STORED`] and [`WANTED`] (raw, CIDv1).
pub fn known() -> (Cid, Cid) {
    (cid_of(RAW, STORED, false), cid_of(RAW, WANTED, false))
}

/// The size of the reads, from the input's first byte.
pub fn read_size(b: u8) -> usize {
    16 << (b & 7)
}

thread_local! {
    static DIR: tempfile::TempDir = tempfile::tempdir().expect("a scratch directory");
}

/// Hands one input to a fresh engine as a peer's inbound stream.
pub fn receive(input: &[u8]) {
    let Some((&control, bytes)) = input.split_first() else {
        return;
    };
    let store = DIR
        .with(|dir| Blockstore::open(dir.path()))
        .expect("a scratch blockstore");
    let (stored, wanted) = known();
    store
        .put(&stored, STORED)
        .expect("a block under its own hash");
    let stream = Input {
        bytes: bytes.to_vec(),
        at: RefCell::new(0),
        read_size: read_size(control),
    };
    run_local(TURNS, move || async move {
        let handler = Rc::new(RefCell::new(None));
        let wire: wire::Client = capnp_rpc::new_client(Wire {
            handler: handler.clone(),
        });
        let host: host::Client = capnp_rpc::new_client(NoPeers);
        let Ok(bitswap) = Bitswap::start(store, wire, host, None).await else {
            panic!("the engine refused to start");
        };
        bitswap.prefetch(wanted, wanted, Duration::from_secs(60));
        let handler: stream_handler::Client = handler.borrow_mut().take().expect("listened");
        let mut request = handler.handle_request();
        request.get().set_peer(PEER);
        request.get().set_stream(capnp_rpc::new_client(stream));
        let _ = request.send().promise.await;
        // The engine reads the stream on a task of its own: let it run.
        std::future::pending::<()>().await;
        drop(bitswap);
    });
}

/// The host's `wire`: keeps the handler, and dials into a sink.
struct Wire {
    handler: Rc<RefCell<Option<stream_handler::Client>>>,
}

impl wire::Server for Wire {
    async fn listen(
        self: Rc<Self>,
        params: wire::ListenParams,
        _: wire::ListenResults,
    ) -> Result<(), Error> {
        *self.handler.borrow_mut() = Some(params.get()?.get_handler()?);
        Ok(())
    }

    async fn dial(
        self: Rc<Self>,
        _: wire::DialParams,
        mut results: wire::DialResults,
    ) -> Result<(), Error> {
        results.get().set_stream(capnp_rpc::new_client(Sink));
        Ok(())
    }
}

/// The host: no peers connected.
struct NoPeers;

impl host::Server for NoPeers {
    async fn peers(
        self: Rc<Self>,
        _: host::PeersParams,
        mut results: host::PeersResults,
    ) -> Result<(), Error> {
        results.get().init_peers(0);
        Ok(())
    }
}

/// The peer's side of the stream: the input, a read at a time.
struct Input {
    bytes: Vec<u8>,
    at: RefCell<usize>,
    read_size: usize,
}

impl byte_stream::Server for Input {
    async fn read(
        self: Rc<Self>,
        params: byte_stream::ReadParams,
        mut results: byte_stream::ReadResults,
    ) -> Result<(), Error> {
        let max = (params.get()?.get_max() as usize).min(self.read_size);
        let mut at = self.at.borrow_mut();
        let end = (*at + max).min(self.bytes.len());
        results.get().set_data(&self.bytes[*at..end]);
        *at = end;
        Ok(())
    }
}

/// Where the engine's answers go: swallowed.
struct Sink;

impl byte_stream::Server for Sink {
    async fn write(self: Rc<Self>, params: byte_stream::WriteParams) -> Result<(), Error> {
        std::hint::black_box(params.get()?.get_data()?.len());
        Ok(())
    }

    async fn read(
        self: Rc<Self>,
        _: byte_stream::ReadParams,
        mut results: byte_stream::ReadResults,
    ) -> Result<(), Error> {
        results.get().set_data(&[]);
        Ok(())
    }
}
