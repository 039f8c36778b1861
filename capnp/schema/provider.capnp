@0xe39e828d7f0bc0b6;
# The vat between the ww core and a provider loaded from a shared library or
# an executable. The provider's bootstrap capability is a `Plugin`.

using Membrane = import "membrane.capnp";

struct Setting {
  # One configuration value for a provider, for a key its manifest declares.
  key @0 :Text;
  value @1 :Text;
}

interface Plugin {
  start @0 (config :List(Setting), requires :List(Membrane.Export))
        -> (exports :List(Membrane.Export));
  # Starts the provider with its configuration and the capabilities of the
  # providers it requires; returns what it exports. Called once.
}
