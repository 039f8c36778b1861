//! `ByteStream` over a libp2p stream.
//!
//! # Why writes go through a queue
//!
//! capnp-rpc holds back every later call on a local capability while a
//! `-> stream` call (our `write`) is in flight. A cell that writes and reads
//! one stream at once (any full-duplex protocol: an echo, a vat) would then
//! deadlock as soon as the remote stops reading because *it* waits for us to
//! read: our `read` is queued behind the blocked `write`. So the server here
//! is dispatched as not streaming ([`client`]), and ordering is kept another
//! way: each `write` and `close` is put, in dispatch order, on the stream's
//! write queue, drained by one writer task; a `write` resolves once its
//! bytes are on the libp2p stream, which paces a streaming caller exactly as
//! before.
//!
//! # Why the queue has no bound of its own
//!
//! A queued write holds its call's parameters, not a copy of them: the
//! bytes are already in memory as the message the caller sent, and stay
//! charged to the calling cell as a call in flight until the write
//! resolves. So a writer whose reader does not read simply waits (libp2p's
//! per-stream window stops taking bytes), and what it can make the node
//! hold is its cell's bound on call bytes in flight; past that, the node
//! stops reading the cell (see `ww_core::rpc_budget`). A writer that
//! awaits each `-> stream` write is paced finer still, by the fixed window
//! capnp-rpc's client keeps per stream (64 KiB).

use std::ops::Deref;
use std::rc::Rc;

use capnp::capability::{DispatchCallResult, FromClientHook, FromServer, Params, Results, Server};
use capnp::{any_pointer, Error};
use futures::io::{ReadHalf, WriteHalf};
use futures::lock::Mutex;
use futures::{AsyncReadExt, AsyncWriteExt};
use libp2p::Stream;
use tokio::sync::{mpsc, oneshot};
use ww_capnp::system_capnp::byte_stream;

use crate::admission::Permit;

/// Most bytes one `read` returns, whatever the caller asks for: bounds the
/// message a single call builds.
pub const MAX_READ: u32 = 1 << 20;

enum Op {
    /// The write's own parameters: its bytes are read from them when its
    /// turn comes.
    Write(byte_stream::WriteParams),
    Close,
}

type Done = oneshot::Sender<Result<(), Error>>;

/// Serves `ByteStream` on one libp2p stream. An inbound stream holds its
/// admission permit until the capability is released.
pub struct ByteStreamImpl {
    reader: Mutex<ReadHalf<Stream>>,
    queue: mpsc::UnboundedSender<(Op, Done)>,
    _permit: Option<Permit>,
}

impl ByteStreamImpl {
    /// Serves `stream`, holding `permit` (for inbound streams) while alive.
    /// Must run inside a `LocalSet` (it spawns the writer task).
    pub fn new(stream: Stream, permit: Option<Permit>) -> Self {
        let (reader, writer) = stream.split();
        let (queue, ops) = mpsc::unbounded_channel();
        tokio::task::spawn_local(drain(writer, ops));
        ByteStreamImpl {
            reader: Mutex::new(reader),
            queue,
            _permit: permit,
        }
    }

    fn enqueue(&self, op: Op) -> Result<oneshot::Receiver<Result<(), Error>>, Error> {
        let (done, result) = oneshot::channel();
        self.queue
            .send((op, done))
            .map_err(|_| Error::disconnected("the stream's writer has stopped".into()))?;
        Ok(result)
    }
}

/// The writer task: performs queued writes and the close, in order.
async fn drain(mut writer: WriteHalf<Stream>, mut ops: mpsc::UnboundedReceiver<(Op, Done)>) {
    // The first failure of the libp2p stream fails every later write.
    let mut failed: Option<String> = None;
    while let Some((op, done)) = ops.recv().await {
        let result = match (&failed, op) {
            (Some(e), _) => Err(Error::disconnected(e.clone())),
            // Parameters that cannot be read fail their own write only.
            (None, Op::Write(params)) => match params.get().and_then(|p| p.get_data()) {
                Err(e) => Err(e),
                Ok(data) => match writer.write_all(data).await {
                    Ok(()) => Ok(()),
                    Err(e) => Err(broken(&mut failed, format!("stream write failed: {e}"))),
                },
            },
            (None, Op::Close) => match writer.close().await {
                Ok(()) => Ok(()),
                Err(e) => Err(broken(&mut failed, format!("stream close failed: {e}"))),
            },
        };
        let _ = done.send(result);
    }
}

/// Records that the libp2p stream broke, and the error for this operation.
fn broken(failed: &mut Option<String>, why: String) -> Error {
    failed.get_or_insert_with(|| why.clone());
    Error::disconnected(why)
}

async fn finished(
    result: Result<oneshot::Receiver<Result<(), Error>>, Error>,
) -> Result<(), Error> {
    result?.await.unwrap_or_else(|_| {
        Err(Error::disconnected(
            "the stream's writer has stopped".into(),
        ))
    })
}

impl byte_stream::Server for ByteStreamImpl {
    fn write(
        self: Rc<Self>,
        params: byte_stream::WriteParams,
    ) -> impl std::future::Future<Output = Result<(), Error>> + 'static {
        // Queued now, at dispatch, so writes keep the order they were sent
        // in; their bytes are read when their turn comes.
        finished(self.enqueue(Op::Write(params)))
    }

    async fn read(
        self: Rc<Self>,
        params: byte_stream::ReadParams,
        mut results: byte_stream::ReadResults,
    ) -> Result<(), Error> {
        let max = params.get()?.get_max().min(MAX_READ) as usize;
        if max == 0 {
            return Err(Error::failed(
                "read(max = 0) would look like end of stream; ask for at least one byte".into(),
            ));
        }
        let mut buf = vec![0u8; max];
        let n = {
            let mut reader = self.reader.lock().await;
            reader
                .read(&mut buf)
                .await
                .map_err(|e| Error::disconnected(format!("stream read failed: {e}")))?
        };
        results.get().set_data(&buf[..n]);
        Ok(())
    }

    fn close(
        self: Rc<Self>,
        _: byte_stream::CloseParams,
        _: byte_stream::CloseResults,
    ) -> impl std::future::Future<Output = Result<(), Error>> + 'static {
        finished(self.enqueue(Op::Close))
    }
}

/// A `ByteStream` client for `server`, dispatched as not streaming (see the
/// module docs for why).
pub fn client(server: ByteStreamImpl) -> byte_stream::Client {
    let unserialized: Unserialized = capnp_rpc::new_client(server);
    byte_stream::Client::new(unserialized.0.hook)
}

/// The client type that makes capnp-rpc use [`Dispatch`].
struct Unserialized(capnp::capability::Client);

impl FromClientHook for Unserialized {
    fn new(hook: Box<dyn capnp::private::capability::ClientHook>) -> Self {
        Unserialized(capnp::capability::Client::new(hook))
    }
    fn into_client_hook(self) -> Box<dyn capnp::private::capability::ClientHook> {
        self.0.hook
    }
    fn as_client_hook(&self) -> &dyn capnp::private::capability::ClientHook {
        &*self.0.hook
    }
}

impl FromServer<ByteStreamImpl> for Unserialized {
    type Dispatch = Dispatch;
    fn from_server(s: Rc<ByteStreamImpl>) -> Dispatch {
        Dispatch(<byte_stream::Client as FromServer<ByteStreamImpl>>::from_server(s))
    }
}

/// The generated dispatch, with `write` no longer marked streaming.
#[derive(Clone)]
struct Dispatch(byte_stream::ServerDispatch<ByteStreamImpl>);

impl Deref for Dispatch {
    type Target = ByteStreamImpl;
    fn deref(&self) -> &ByteStreamImpl {
        &self.0
    }
}

impl Server for Dispatch {
    fn dispatch_call(
        self,
        interface_id: u64,
        method_id: u16,
        params: Params<any_pointer::Owned>,
        results: Results<any_pointer::Owned>,
    ) -> DispatchCallResult {
        let call = self
            .0
            .dispatch_call(interface_id, method_id, params, results);
        DispatchCallResult::new(call.promise, false)
    }

    fn as_ptr(&self) -> usize {
        self.0.as_ptr()
    }
}
