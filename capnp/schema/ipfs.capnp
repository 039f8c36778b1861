@0xcbffaa55f162e6df;
# Content-addressed storage (IPFS UnixFS).

using System = import "system.capnp";

interface Ipfs {
  unixfs @0 () -> (api :UnixFs);
  # The UnixFS file API.

  pin @1 (cid :Text) -> ();
  # Keeps `cid` and everything it links to in the local store, fetching
  # from peers what is missing first.

  unpin @2 (cid :Text) -> ();
  # Allows `cid` to be collected; fails when it is not pinned.
}

struct AddOptions {
  # How `add` builds its DAG. The defaults are Kubo's `ipfs add` defaults.

  cidVersion @0 :UInt8 = 0;
  # 0: CIDv0 (base58 `Qm…`), 1: CIDv1 (base32 `bafy…`/`bafk…`).

  rawLeaves @1 :Bool = false;
  # Store file chunks as raw blocks (codec 0x55) instead of dag-pb nodes.
  # Kubo turns this on with CIDv1; set it explicitly here.
}

interface UnixFs {
  cat @0 (path :Text) -> (data :Data);
  # Whole file at `/ipfs/<cid>[/sub/path]`; a file larger than 64 MiB is
  # refused (use catStream).

  catStream @1 (path :Text) -> (stream :System.ByteStream);
  # The same, streamed, for large files: read until empty data.

  ls @2 (path :Text) -> (entries :List(Entry));
  # Directory listing, in name order.

  add @3 (data :Data, options :AddOptions) -> (cid :Text);
  # Adds a file (256 KiB chunks, balanced layout with 174 links per node).

  addStream @4 (options :AddOptions) -> (writer :AddWriter);
  # Adds a file written in pieces, for files too large for one message.

  addDirectory @5 (files :List(File), options :AddOptions) -> (cid :Text);
  # Adds a directory tree; each file's `path` is relative to the root
  # ("bin/echo.wasm"), and parent directories are implied.

  struct Entry {
    name @0 :Text;
    cid @1 :Text;
    size @2 :UInt64;
    isDirectory @3 :Bool;
  }

  struct File {
    path @0 :Text;
    data @1 :Data;
  }
}

interface AddWriter {
  # The receiving end of `UnixFs.addStream`.

  write @0 (data :Data) -> stream;
  # Appends bytes to the file being added.

  finish @1 () -> (cid :Text);
  # Ends the file, stores its blocks and returns its CID. Dropping the
  # writer without `finish` stores nothing.
}
