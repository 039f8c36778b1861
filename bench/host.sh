#!/usr/bin/env bash
# Node to node over loopback, through the capability path: node A's cell
# echoes a /ww/ stream and serves a Counter over a vat; node B's cell sends
# BYTES both ways and calls the Counter CALLS times (timed in B's cell), over
# TCP and over QUIC.
# Usage: bench/host.sh [PROFILE] [BYTES] [CALLS]
#   PROFILE: debug (default; after `cargo build`) or release (after bench/build.sh)
#   Needs the guests: scripts/build-guests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
profile="${1:-debug}"
bytes="${2:-10485760}"
calls="${3:-1000}"
ww="$target_dir/$profile/ww"
image=$(mktemp -d)
out=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$image" "$out"; }
trap cleanup EXIT
mkdir -p "$image/boot"
cp "$target_dir/wasm32-wasip2/release/net.wasm" "$image/boot/main.wasm"
export WW_LISTEN=/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/udp/0/quic-v1
"$ww" run "$image" -- listen echo >"$out/echo" 2>/dev/null & pids+=($!)
"$ww" run "$image" -- serve-vat counter >"$out/vat" 2>/dev/null & pids+=($!)
for f in echo vat; do
  for _ in $(seq 600); do grep -q serving "$out/$f" && break; sleep 0.1; done
done
addr() { grep "addr: .*$2" "$out/$1" | head -1 | cut -c7-; }
for t in /tcp/ /quic-v1/; do
  echo "== ${t//\//}"
  "$ww" run "$image" -- dial "$(addr echo "$t")" echo "$bytes"
  "$ww" run "$image" -- call-vat "$(addr vat "$t")" counter "$calls"
done
