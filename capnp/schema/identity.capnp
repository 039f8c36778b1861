@0xcab54327be794e8c;
# Node identity: signing with a key that never enters WASM.
#
# Keys are Ed25519. Public keys are the 32-byte compressed point; signatures
# are the 64-byte standard encoding (RFC 8032).

interface Identity {
  publicKey @0 () -> (key :Data);
  # The node's public key.

  signer @1 (domain :Text) -> (signer :Signer);
  # A signer bound to a domain, so a signature made for one purpose cannot be
  # replayed for another. `domain` is non-empty UTF-8 without NUL bytes.

  verify @2 (data :Data, signature :Data, publicKey :Data) -> (valid :Bool);
  # Checks an Ed25519 signature over `data`. Malformed keys or signatures
  # verify as false; this call never fails on bad input.
}

interface Signer {
  sign @0 (nonce :Data, epochSeq :UInt64) -> (signature :Data);
  # Signs  domain || 0x00 || nonce || epochSeq (8 bytes, big-endian)  with the
  # node's key, where `domain` is the one the signer was made for. Verify with
  # `Identity.verify` over the same bytes.

  publicKey @1 () -> (key :Data);
  # The public key signatures verify under.

  domain @2 () -> (domain :Text);
  # The domain this signer is bound to.
}
