@0xcbffaa55f162e6df;
# Content-addressed storage (IPFS UnixFS).

using System = import "system.capnp";

interface Ipfs {
  unixfs @0 () -> (api :UnixFs);
  # The UnixFS file API.

  pin @1 (cid :Text) -> ();
  # Keeps `cid` and everything it links to in the local store.

  unpin @2 (cid :Text) -> ();
  # Allows `cid` to be collected.
}

interface UnixFs {
  cat @0 (path :Text) -> (data :Data);
  # Whole file at `/ipfs/<cid>[/sub/path]`.

  catStream @1 (path :Text) -> (stream :System.ByteStream);
  # The same, streamed, for large files.

  ls @2 (path :Text) -> (entries :List(Entry));
  # Directory listing.

  add @3 (data :Data) -> (cid :Text);
  # Adds a file with Kubo's defaults (CIDv0, 256 KiB chunks, balanced).

  struct Entry {
    name @0 :Text;
    cid @1 :Text;
    size @2 :UInt64;
    isDirectory @3 :Bool;
  }
}
