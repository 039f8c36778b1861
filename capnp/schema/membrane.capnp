@0xf850dc7186f784ba;
# The membrane: the one door through which a cell receives capabilities.
#
# A cell starts with no ambient authority. Its RPC vat's bootstrap capability
# is a `Membrane`; `graft()` hands out every capability the node's providers
# export, each wrapped by the epoch guard.

using Schema = import "/capnp/schema.capnp";
using Identity = import "identity.capnp";

struct Epoch {
  # One period of validity for capabilities. Without an on-chain stem there is
  # one epoch for the life of the process (seq 1); with one, `seq` follows the
  # stem contract's head.

  seq @0 :UInt64;
  # Monotonic; every capability handed out in epoch `seq` fails with a
  # stale-epoch error once `seq` is no longer current.

  head @1 :Data;
  # The head CID (binary form) this epoch's base image came from; empty when
  # the node has no stem.
}

struct Export {
  # One named capability, with enough type information to call it without
  # having been compiled against its schema.

  name @0 :Text;
  # Stable, unique within one graft (e.g. "identity", "host").

  cap @1 :Capability;
  # The capability itself, guarded by the epoch of the graft that returned it.

  schema @2 :Schema.Node;
  # The interface's schema node: its methods and their param/result struct
  # ids, so a shell or a foreign guest can introspect a capability it has
  # never seen.

  types @3 :List(Schema.Node);
  # The nodes `schema`'s methods use, transitively: parameter and result
  # structs, the structs, groups and enums they hold, the interfaces they
  # pass. With them a caller builds requests and reads results of an
  # interface it was never compiled against (the shell's `call`). Nodes of
  # schema.capnp itself are left out.
}

interface Membrane {
  # Bootstrap capability of every cell's RPC vat.
  #
  # Failures of calls on capabilities from an ended epoch are reported as
  # `failed` exceptions whose description starts with "staleEpoch" and names
  # the current epoch: "staleEpoch: capability from epoch 1 was revoked;
  # current epoch is 2; graft again". Calls in flight when an epoch ends fail
  # the same way.

  graft @0 () -> (epoch :Epoch, caps :List(Export));
  # Returns every capability this cell may use, sorted by name, guarded by
  # the current epoch. Call again after a stale-epoch failure.

  epoch @1 () -> (epoch :Epoch);
  # The current epoch, without grafting.
}

interface Terminal(Session) {
  # Gates a `Session` (typically a Membrane) behind challenge-response.
  #
  # The terminal picks a fresh nonce and calls `signer.sign(nonce, seq)` with
  # the current epoch's seq. It accepts the returned signature only if it
  # verifies under an allowed public key, the nonce is one it issued and has
  # not seen answered before, and the epoch is still current.

  login @0 (signer :Identity.Signer) -> (session :Session);
  # Fails with `failed` on a wrong key, a replayed nonce or a stale epoch.
}
