@0xbadb53f1a7a5b8e5;
# System capabilities: the libp2p host, byte streams and cell execution.

using Membrane = import "membrane.capnp";

interface ByteStream {
  # A bidirectional, ordered byte stream (a libp2p stream, a child's stdio).

  write @0 (data :Data) -> stream;
  # Appends bytes. Flow-controlled: the caller's writes are paced by the
  # receiver.

  read @1 (max :UInt32) -> (data :Data);
  # Up to `max` bytes; empty data means end of stream.

  close @2 ();
  # Closes the writing half; reads continue until the peer closes.
}

struct Limits {
  # Resource limits for a child cell; zero means "inherit the host default".

  maxMemoryBytes @0 :UInt64;
  fuel @1 :UInt64;
  # CPU budget in fuel units; zero means unbounded (within the host's own).
  maxChildren @2 :UInt32;
}

interface Executor {
  # Runs child cells.

  echo @0 (message :Text) -> (response :Text);
  # Diagnostic: returns `message` unchanged.

  spawn @1 (path :Text, args :List(Text), env :List(Text),
            caps :List(Membrane.Export), limits :Limits) -> (process :Process);
  # Starts the wasm at `path` inside the caller's image. The child gets
  # exactly `caps`, `env` (KEY=VALUE entries) and `args`.
}

interface Runtime {
  # Compiles code once and hands out executors for it.

  load @0 (wasm :Data) -> (executor :Executor);
  # Compiles (or finds in the content-hash cache) a component or module.
}

interface Process {
  # A running child cell.

  stdin @0 () -> (stream :ByteStream);
  stdout @1 () -> (stream :ByteStream);
  stderr @2 () -> (stream :ByteStream);

  wait @3 () -> (exitCode :Int32);
  # Resolves when the child exits: 0 success, 1 trap or error, 126 not
  # executable, 127 not found, 128+n killed (137 after `kill`).

  kill @4 ();
  # Stops the child; `wait` then returns 137.

  bootstrap @5 () -> (cap :Capability);
  # The capability the child exported back on its own vat.
}

interface Host {
  # The node's libp2p host.

  id @0 () -> (peerId :Text);
  # Base58 PeerId, derived from the node identity key.

  addrs @1 () -> (addrs :List(Text));
  # Listen multiaddrs.

  peers @2 () -> (peers :List(PeerInfo));
  # Connected peers, from a snapshot (never waits for the swarm).

  connect @3 (addr :Text) -> ();
  # Dials a multiaddr (with /p2p/<id>); fails on a malformed or unreachable
  # address after a bounded timeout.

  network @4 () -> (listener :StreamListener, dialer :StreamDialer,
                    vatListener :VatListener, vatClient :VatClient);
  # Custom protocols over the swarm.

  struct PeerInfo {
    id @0 :Text;
    addrs @1 :List(Text);
  }
}

interface StreamHandler {
  # Receives inbound streams for a protocol a cell listens on.

  handle @0 (peer :Text, stream :ByteStream) -> ();
}

interface StreamListener {
  listen @0 (protocol :Text, handler :StreamHandler) -> ();
  # Accepts streams on `protocol` (namespaced under /ww/) until the epoch
  # ends.
  #
  # Listening also stops when the caller releases this StreamListener, or
  # when `handler` is gone; each inbound stream is admitted within the
  # node's per-protocol and per-peer limits, excess refused with a reason.
}

interface StreamDialer {
  dial @0 (peer :Text, protocol :Text) -> (stream :ByteStream);
  # Opens a stream to `peer` on `protocol`.
}

interface VatListener {
  serve @0 (protocol :Text, cap :Capability) -> ();
  # Serves `cap` as the bootstrap of a Cap'n Proto vat on `protocol`.
  #
  # Serving stops when the caller releases this VatListener; vats already
  # open go on until their peers close them.
}

interface VatClient {
  dial @0 (peer :Text, protocol :Text) -> (cap :Capability);
  # Connects to a remote vat and returns its bootstrap capability.
}
