@0x95e997b63049184b;
# A third party's interface, served by a provider process written in Python
# (kv_provider.py, with pycapnp): ww's core and kernel know nothing of it and
# call it through the schema nodes its graft carries.

interface Kv {
  get @0 (key :Text) -> (value :Text, found :Bool);
  # The value stored under `key`, if any.

  set @1 (key :Text, value :Text) -> ();
  # Stores `value` under `key` (in the process's memory: a restart forgets).

  hang @2 () -> ();
  # Never answers: logs "hang: holding this call" with the process's pid and
  # waits until the process is stopped (for tests that stop it mid-call).

  pid @3 () -> (pid :UInt32);
  # The provider process's pid.

  hangUp @4 () -> ();
  # Shuts its connection to the node down and keeps running without it
  # (for tests: the node must not wait for it forever).

  dial @5 (address :Text) -> (connected :Bool, error :Text);
  # Opens a TCP connection to `address` (HOST:PORT) and closes it: whether
  # the provider reaches the network (for tests of its jail).
}
