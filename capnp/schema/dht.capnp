@0xcdfa420910440d2e;
# The host's Kademlia DHT, exported to providers only (never to cells): the
# routing provider attenuates it into `Routing`.

using Routing = import "routing.capnp";

interface Dht {
  provide @0 (key :Data) -> ();
  # Announces this node as a provider of `key` (raw Kademlia key bytes; the
  # routing provider uses a CID's multihash, as IPFS does). Returns when
  # the closest peers have been told, or fails saying why (e.g. no peers).

  findProviders @1 (key :Data, count :UInt32, sink :Routing.ProviderSink) -> ();
  # Streams up to `count` distinct providers of `key` into `sink` (this node
  # included when it provides `key`); returns when the query ends.
}
