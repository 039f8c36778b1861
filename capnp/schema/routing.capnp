@0xcd8cfe49e464aff1;
# Content routing over the Kademlia DHT.

interface Routing {
  provide @0 (key :Text) -> ();
  # Announces that this node provides `key` (a CID).

  findProviders @1 (key :Text, count :UInt32, sink :ProviderSink) -> ();
  # Streams up to `count` providers of `key` into `sink`; returns when the
  # search ends.

  hash @2 (data :Data) -> (key :Text);
  # CIDv1 (raw codec) of a sha2-256 multihash of `data`.

  resolve @3 (name :Text) -> (path :Text);
  # Resolves a name to an /ipfs/ path, where that needs no IPFS daemon.
}

interface ProviderSink {
  found @0 (peer :Text, addrs :List(Text)) -> stream;
  # One provider found.
}
