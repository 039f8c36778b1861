@0xa36139e596bc3da0;
# A test fixture provider's interface: a third party's schema, compiled by
# the provider's own build.rs.

interface Fixture {
  ping @0 (n :UInt32) -> (n :UInt32);
  # Returns n + 1.

  panic @1 ();
  # Panics inside the provider; the call fails, the provider keeps serving.

  reflect @2 (cap :Capability) -> (cap :Capability);
  # Returns its argument, to test that capabilities passed back come out wrapped.
}
