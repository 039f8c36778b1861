@0xe39e828d7f0bc0b6;
# The vat between the ww core and a provider loaded from a shared library or
# an executable. The provider's bootstrap capability is a `Plugin`.

using Membrane = import "membrane.capnp";

struct Setting {
  # One configuration value for a provider, for a key its manifest declares.
  key @0 :Text;
  value @1 :Text;
}

struct ConfigRefusal {
  # A configuration value the provider cannot use: the operator must change
  # how the node is run, not retry it.
  key @0 :Text;
  reason @1 :Text;
  # What is wrong with the value, e.g. "`abc` is not a whole number".
}

interface Plugin {
  start @0 (config :List(Setting), requires :List(Membrane.Export))
        -> (exports :List(Membrane.Export), refused :ConfigRefusal);
  # Starts the provider with its configuration and the capabilities of the
  # providers it requires; returns what it exports. Called once.
  #
  # A provider that refuses a configuration value sets `refused` (and
  # exports nothing) instead of failing the call, so the node can tell a
  # bad value (the command line must change) from a failure to start.
  # Any other failure is an exception.
}

# A provider process (`ww run --provider ./program`) speaks this on fd 3, a
# Unix socket, before any capability: it writes one `Hello` (a Cap'n Proto
# message in the standard stream framing), the node answers one `Welcome`,
# and from then on the socket carries an ordinary two-party vat whose
# bootstrap capability is the provider's `Plugin`. A shared-library provider
# announces the same protocol number in its fingerprint.

const protocolVersion :UInt32 = 1;
# The provider protocol this schema describes. Bumped only when a provider
# and a node speaking different numbers could not work together (`Plugin`
# renamed or its `start` changed incompatibly, `Hello` or `Welcome` changed
# in a way old readers misread). Comments, new methods and new fields are
# Cap'n Proto's compatible evolution and never bump it.

struct Hello {
  # What a provider process says first.

  protocol @0 :UInt32;
  # The provider protocol it speaks (`protocolVersion` of the schema it was
  # built with). A node refuses any number it does not speak, naming both.

  manifest @1 :Manifest;
  # What it exports, requires and reads from config.

  needs @2 :Needs;
  # What it needs from the host beyond its socket; the operator must grant
  # each need (`ww run --provider-grant NAME:...`).

  implementation @3 :Text;
  # Free text naming what built it, for logs: "ww-provider-sdk 0.1.0",
  # "pycapnp 2.2.4".
}

struct Welcome {
  # The node's answer to a `Hello`.

  protocol @0 :UInt32;
  # The provider protocol the node speaks.

  union {
    accepted @1 :Void;
    # The vat starts on the same socket right after this message.

    refused @2 :Text;
    # Why not (a protocol the node does not speak, a malformed manifest);
    # the node closes the socket after this message.
  }
}

struct Manifest {
  # A provider's declaration, read before it runs anything.

  name @0 :Text;
  # Unique among a node's providers; names its log events and errors.

  version @1 :Text;
  exports @2 :List(ExportDecl);
  requires @3 :List(Text);
  # Names of capabilities other providers export, handed to `Plugin.start`.

  config @4 :List(ConfigKey);
}

struct ExportDecl {
  name @0 :Text;
  audience @1 :Audience;
}

enum Audience {
  guests @0;
  # Cells receive it through the membrane (and providers may require it).

  providers @1;
  # Only other providers may require it.
}

struct ConfigKey {
  key @0 :Text;
  help @1 :Text;
  required @2 :Bool;
}

struct Needs {
  # What a provider process asks of its jail beyond the default (its
  # program, the system libraries, a scratch directory, the socket on fd 3).

  network @0 :Bool;
  # The host's network (a provider that runs a libp2p swarm, or talks to a
  # service): the node's network namespace and socket calls.

  read @1 :List(Text);
  # Absolute host paths it reads.

  write @2 :List(Text);
  # Absolute host paths it reads and writes.
}
