@0xe4c1f0a3b5d27c91;
# Standard libp2p stream protocols (e.g. /ipfs/bitswap/1.2.0), exported by
# the host to providers only, never to cells: a provider that speaks a
# protocol other implementations speak (Kubo's Bitswap) needs its exact
# name, with no /ww/ namespace and no ww admission byte in front.

using System = import "system.capnp";

interface Wire {
  listen @0 (protocol :Text, handler :System.StreamHandler) -> ();
  # Hands every inbound stream on `protocol` to `handler` until `handler`
  # is gone. `protocol` must be outside the cells' /ww/ namespace and not
  # one the swarm serves itself (Kademlia, Identify, Ping); a protocol has
  # at most one listener per node.

  dial @1 (peer :Text, protocol :Text) -> (stream :System.ByteStream);
  # Opens a stream to `peer` (a connected or known peer id) on `protocol`;
  # fails after the host's dial timeout when the peer cannot be reached or
  # does not speak `protocol`.
}
