//! The vat network of one cell's RPC connection, with the cell's budget
//! wired into both directions.
//!
//! capnp-rpc's two-party network reads every message with one fixed read
//! limit and queues every outgoing message without bound. A cell is not
//! trusted with either, so this network differs in three ways:
//!
//! - **Reads are limited relative to what was sent.** Each message is
//!   parsed with the node's largest message size, then given a read
//!   (traversal) limit of [`AMPLIFICATION`] times its own size plus
//!   [`SLACK_WORDS`]. Everything the host reads from the message — the RPC
//!   system's header, the epoch guard's measure and copy of a call's
//!   parameters — is charged to that limit, so a tiny message whose
//!   pointers share data cannot make the host read or copy more than a
//!   small multiple of its size.
//! - **Reading waits for the budget.** Every `Call` the cell sends is
//!   counted (with its size) until the node's `Return` for it is sent.
//!   Before each message the network waits until the cell's [`CellBudget`]
//!   allows it to send more ([`CellBudget::may_send`]): back-pressure
//!   instead of buffering, whether the calls wait in a provider, in a
//!   stream's queue or on a promise they were pipelined onto.
//! - **What is queued toward the cell is counted.** Each outgoing message's
//!   bytes count as queued until the cell's side of the pipe accepts them.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use capnp::capability::Promise;
use capnp::message::{Builder, HeapAllocator, Reader, ReaderOptions};
use capnp::serialize::OwnedSegments;
use capnp_rpc::rpc_capnp;
use capnp_rpc::rpc_twoparty_capnp::Side;
use futures::channel::oneshot;
use futures::{AsyncRead, AsyncWrite, FutureExt};
use ww_provider_sdk::capnp;

use crate::rpc_budget::CellBudget;

/// How many times its own size a message may be read as.
pub const AMPLIFICATION: usize = 8;
/// Words any message may be read as beyond [`AMPLIFICATION`] times its
/// size (64 KiB): small messages are read more than once in places.
pub const SLACK_WORDS: usize = 8 << 10;
/// The largest message a cell may send (64 MiB, capnp's default limit).
pub const MAX_MESSAGE_WORDS: usize = 8 << 20;
/// Nesting depth of any message (capnp's default).
const NESTING: i32 = 64;
/// Bytes of one outgoing message gathered before they are written (a
/// larger message is written through).
const WRITE_BUFFER: usize = 8 << 10;

type Outgoing = Rc<Builder<HeapAllocator>>;

/// A cell's side of the network: the host is the server, the cell the
/// client.
pub struct CellNetwork<R: AsyncRead + Unpin + 'static> {
    /// Handed to the RPC system by the first `accept`.
    first: Option<Connection<R>>,
    link: Weak<Link<R>>,
    driver: futures::future::Shared<Promise<(), capnp::Error>>,
}

/// What every handle on the one connection shares.
struct Link<R> {
    /// Lent to one read at a time.
    input: RefCell<Option<R>>,
    output: RefCell<capnp_futures::Sender<Outgoing>>,
    budget: Rc<CellBudget>,
    /// Fired when the last handle goes, so the driver can end.
    gone: RefCell<Option<oneshot::Sender<()>>>,
}

impl<R> Drop for Link<R> {
    fn drop(&mut self) {
        if let Some(gone) = self.gone.get_mut().take() {
            let _ = gone.send(());
        }
    }
}

impl<R: AsyncRead + Unpin + 'static> CellNetwork<R> {
    /// A network reading the cell's messages from `input` and writing the
    /// host's to `output`, charging `budget`.
    pub fn new<W: AsyncWrite + Unpin + 'static>(
        input: R,
        output: W,
        budget: Rc<CellBudget>,
    ) -> CellNetwork<R> {
        let counted = Counted {
            inner: output,
            budget: budget.clone(),
        };
        // Cap'n Proto writes a message's segment table and segments
        // separately; gathered, each message is one write, so the cell
        // (a process, for a native cell) wakes once per message.
        let gathered = futures::io::BufWriter::with_capacity(WRITE_BUFFER, counted);
        let (sender, writing) = capnp_futures::write_queue(gathered);
        let (gone_tx, gone_rx) = oneshot::channel();
        let driver = Promise::from_future(async move {
            let written = writing.await;
            // Ends once the RPC system let go of the connection too.
            let _ = gone_rx.await;
            written
        })
        .shared();
        let link = Rc::new(Link {
            input: RefCell::new(Some(input)),
            output: RefCell::new(sender),
            budget,
            gone: RefCell::new(Some(gone_tx)),
        });
        CellNetwork {
            link: Rc::downgrade(&link),
            first: Some(Connection { link }),
            driver,
        }
    }
}

impl<R: AsyncRead + Unpin + 'static> capnp_rpc::VatNetwork<Side> for CellNetwork<R> {
    fn connect(&mut self, peer: Side) -> Option<Box<dyn capnp_rpc::Connection<Side>>> {
        if peer == Side::Server {
            return None;
        }
        let link = self.link.upgrade()?;
        Some(Box::new(Connection { link }))
    }

    fn accept(&mut self) -> Promise<Box<dyn capnp_rpc::Connection<Side>>, capnp::Error> {
        match self.first.take() {
            Some(c) => Promise::ok(Box::new(c) as Box<dyn capnp_rpc::Connection<Side>>),
            // One peer only: no second connection ever arrives.
            None => Promise::from_future(futures::future::pending()),
        }
    }

    fn drive_until_shutdown(&mut self) -> Promise<(), capnp::Error> {
        Promise::from_future(self.driver.clone())
    }
}

struct Connection<R> {
    link: Rc<Link<R>>,
}

impl<R: AsyncRead + Unpin + 'static> capnp_rpc::Connection<Side> for Connection<R> {
    fn get_peer_vat_id(&self) -> Side {
        Side::Client
    }

    fn new_outgoing_message(
        &mut self,
        first_segment_words: u32,
    ) -> Box<dyn capnp_rpc::OutgoingMessage> {
        Box::new(Message {
            message: Builder::new(HeapAllocator::new().first_segment_words(first_segment_words)),
            link: self.link.clone(),
        })
    }

    fn receive_incoming_message(
        &mut self,
    ) -> Promise<Option<Box<dyn capnp_rpc::IncomingMessage>>, capnp::Error> {
        let link = self.link.clone();
        Promise::from_future(async move {
            link.budget.may_send().await;
            let Some(mut input) = link.input.borrow_mut().take() else {
                return Err(capnp::Error::failed(
                    "two reads at once on a cell's RPC connection (a bug in ww)".into(),
                ));
            };
            let parse = ReaderOptions {
                traversal_limit_in_words: Some(MAX_MESSAGE_WORDS),
                nesting_limit: NESTING,
            };
            let read = capnp_futures::serialize::try_read_message(&mut input, parse).await;
            *link.input.borrow_mut() = Some(input);
            let Some(message) = read? else {
                return Ok(None);
            };
            let message = relimit(message);
            if let Some(question) = call_question(&message) {
                link.budget.called(question, message.size_in_words() * 8);
            }
            Ok(Some(
                Box::new(Incoming(message)) as Box<dyn capnp_rpc::IncomingMessage>
            ))
        })
    }

    fn shutdown(&mut self, result: capnp::Result<()>) -> Promise<(), capnp::Error> {
        let done = self.link.output.borrow_mut().terminate(result);
        Promise::from_future(done)
    }
}

/// `message`, readable as at most [`AMPLIFICATION`] times its size plus
/// [`SLACK_WORDS`].
fn relimit(message: Reader<OwnedSegments>) -> Reader<OwnedSegments> {
    let words = message.size_in_words();
    let limit = words
        .saturating_mul(AMPLIFICATION)
        .saturating_add(SLACK_WORDS);
    Reader::new(
        message.into_segments(),
        ReaderOptions {
            traversal_limit_in_words: Some(limit),
            nesting_limit: NESTING,
        },
    )
}

/// The question id of a `Call` message (`None` for any other message, or
/// one the RPC system will refuse anyway).
fn call_question(message: &Reader<OwnedSegments>) -> Option<u32> {
    let root = message.get_root::<rpc_capnp::message::Reader<'_>>().ok()?;
    match root.which().ok()? {
        rpc_capnp::message::Call(call) => Some(call.ok()?.get_question_id()),
        _ => None,
    }
}

/// The answer id of a `Return` message.
fn return_answer(message: &Builder<HeapAllocator>) -> Option<u32> {
    let root = message
        .get_root_as_reader::<rpc_capnp::message::Reader<'_>>()
        .ok()?;
    match root.which().ok()? {
        rpc_capnp::message::Return(r) => Some(r.ok()?.get_answer_id()),
        _ => None,
    }
}

struct Incoming(Reader<OwnedSegments>);

impl capnp_rpc::IncomingMessage for Incoming {
    fn get_body(&self) -> capnp::Result<capnp::any_pointer::Reader<'_>> {
        self.0.get_root()
    }
}

struct Message<R> {
    message: Builder<HeapAllocator>,
    link: Rc<Link<R>>,
}

impl<R> capnp_rpc::OutgoingMessage for Message<R> {
    fn get_body(&mut self) -> capnp::Result<capnp::any_pointer::Builder<'_>> {
        self.message.get_root()
    }

    fn get_body_as_reader(&self) -> capnp::Result<capnp::any_pointer::Reader<'_>> {
        self.message.get_root_as_reader()
    }

    fn send(self: Box<Self>) -> (Promise<(), capnp::Error>, Outgoing) {
        let Message { message, link } = *self;
        if let Some(answer) = return_answer(&message) {
            link.budget.answered(answer);
        }
        link.budget
            .queue(capnp::serialize::compute_serialized_size_in_words(&message) * 8);
        let message = Rc::new(message);
        let sent = link.output.borrow_mut().send(message.clone());
        (Promise::from_future(sent.map(|r| r.map(|_| ()))), message)
    }

    fn take(self: Box<Self>) -> Builder<HeapAllocator> {
        self.message
    }

    fn size_in_words(&self) -> usize {
        self.message.size_in_words()
    }
}

/// The host's writer toward the cell: every byte the cell's side accepts
/// is taken off the cell's queued count.
struct Counted<W> {
    inner: W,
    budget: Rc<CellBudget>,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Counted<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            self.budget.dequeue(n);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
