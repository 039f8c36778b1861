@0xa36139e596bc3da0;

interface Fixture {
  ping @0 (n :UInt32) -> (n :UInt32);
  # returns n+1

  panic @1 ();
  # panics inside the provider

  reflect @2 (cap :Capability) -> (cap :Capability);
  # returns its argument
}
