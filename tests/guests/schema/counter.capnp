@0xd3a6a0b7f1e2c4a9;
# A counter a test cell serves to cells on other nodes over a vat.

interface Counter {
  increment @0 (by :Int64) -> (value :Int64);
  # Adds `by` and returns the new value.
}
