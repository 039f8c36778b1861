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
  # Resource limits for a child cell; zero means "the host's default".

  maxMemoryBytes @0 :UInt64;
  # Linear memory the cell may grow to; past it, memory.grow traps and the
  # cell exits with status 125. The host's default is `ww run --max-memory`
  # (64 MiB); at most 256 MiB (an instance slot). The limit is reserved
  # from the node's memory budget while the cell lives: a spawn whose limit
  # does not fit fails with `overloaded`.

  cpuMillis @1 :UInt64;
  # CPU time the cell may use, in milliseconds: its own code's and the
  # node's work on its calls (as `Process.wait` reports it), checked every
  # 2 ms; past it the cell is stopped with status 124.
}

interface Executor {
  # Runs child cells. A child gets exactly the capabilities, environment and
  # file system its parent passes: nothing is inherited.

  echo @0 (message :Text) -> (response :Text);
  # Diagnostic: returns `message` unchanged.

  spawn @1 (args :List(Text), env :List(Text), caps :List(Membrane.Export),
            limits :Limits, root :Text) -> (process :Process);
  # Starts a child running this executor's code. An executor from `graft` is
  # bound to no code: then `args[0]` is the path of the wasm inside the node's
  # image (e.g. "/bin/echo.wasm"), as with execve. `env` holds KEY=VALUE
  # entries; `caps` is everything the child's graft will return; `root` is the
  # directory of the image the child sees as `/` ("" for no file system).

  runtime @2 () -> (runtime :Runtime);
  # Compiles code that is not in the image.
}

interface Runtime {
  # Compiles code once and hands out executors bound to it.

  load @0 (wasm :Data) -> (executor :Executor);
  # Compiles (or finds in the content-hash cache) a WASI P2 component or a
  # WASI P1 module exporting `_start`; anything else is refused.
}

interface Process {
  # A running child cell.

  stdin @0 () -> (stream :ByteStream);
  stdout @1 () -> (stream :ByteStream);
  stderr @2 () -> (stream :ByteStream);

  wait @3 () -> (exitCode :Int32, cpuMicros :UInt64);
  # Resolves when the child exits: 0 success, 1 trap or error, 124 CPU limit,
  # 125 memory limit, 126 not executable, 127 not found, 137 killed.
  # `cpuMicros` is the CPU time the child used (not its children's): its
  # own code's and the node's work on its calls, as the node measured and
  # charged it.

  kill @4 ();
  # Stops the child; `wait` then returns 137.

  bootstrap @5 () -> (cap :Capability);
  # The capability the child exports on its own vat (calls on it fail if the
  # child exports none).
}

interface Cells {
  # The core's cell runtime, exported to providers only: the executor
  # provider builds the guest-facing `Executor` on it. One engine, one
  # compile cache and one count of live cells per node.

  load @0 (wasm :Data) -> (code :Code);
  # Compiles `wasm` (cached by content hash, in memory and on disk).

  open @1 (path :Text) -> (code :Code);
  # Compiles the file at `path` inside the node's image.
}

interface Code {
  # Compiled code, ready to spawn without compiling again.

  spawn @0 (args :List(Text), env :List(Text), caps :List(Membrane.Export),
            limits :Limits, root :Text) -> (process :Process);
  # As `Executor.spawn`, with `args[0]` only the child's argv[0].
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
