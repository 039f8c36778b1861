#!/usr/bin/env bash
# IPFS throughput through the capability path, timed in the guest
# (ipfs-cmd's `timed`): node A adds BYTES (streamed from the cell in 1 MiB
# writes) and reads them back from its own store (catStream); node B,
# connected to A on loopback TCP, reads them over Bitswap, then again from
# its own store.
# Usage: bench/ipfs.sh [PROFILE] [BYTES]
#   PROFILE: debug (default; after `cargo build`) or release (after bench/build.sh)
#   Needs the guests: scripts/build-guests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
profile="${1:-debug}"
bytes="${2:-104857600}"
ww="$target_dir/$profile/ww"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/image/boot" "$work/a" "$work/b"
cp "$target_dir/wasm32-wasip2/release/ipfs-cmd.wasm" "$work/image/boot/main.wasm"
export WW_LISTEN=/ip4/127.0.0.1/tcp/0
for n in a b; do
  mkfifo "$work/$n.in"
  "$ww" run --data-dir "$work/$n" --config ipfs-fetch-timeout=60 "$work/image" \
    <"$work/$n.in" >"$work/$n.out" 2>/dev/null & pids+=($!)
  exec {fd}>"$work/$n.in"; eval "fd_$n=$fd"
done
# Sends a command to node $1 and waits for its Nth answer line ($3 = prefix).
ask() {
  local node=$1 cmd=$2 prefix=$3 fd before
  before=$(grep -c "^$prefix" "$work/$node.out" || true)
  fd="fd_$node"; echo "$cmd" >&"${!fd}"
  for _ in $(seq 6000); do
    [ "$(grep -c "^$prefix" "$work/$node.out" || true)" -gt "$before" ] && break
    sleep 0.05
  done
  grep "^$prefix" "$work/$node.out" | tail -1 | cut -d' ' -f2-
}
for n in a b; do for _ in $(seq 600); do grep -q ready "$work/$n.out" && break; sleep 0.1; done; done
mib=$(echo "scale=1; $bytes/1048576" | bc)
rate() { echo "scale=1; $bytes*1000/1048576/$1" | bc; }
added=$(ask a "timed gen $bytes 1" "timed:")
ms=${added%% *}; cid=${added##* }
echo "add ${mib} MiB (A):              ${ms} ms  $(rate "$ms") MiB/s  $cid"
read -r ms _ < <(ask a "timed sum /ipfs/$cid" "timed:")
echo "cat ${mib} MiB from A's store:   ${ms} ms  $(rate "$ms") MiB/s"
id=$(ask a id "id:"); addr=$(ask a addrs "addrs:" | tr ' ' '\n' | grep /tcp/ | head -1)
ask b "connect $addr/p2p/$id" "connect:" >/dev/null
read -r ms _ < <(ask b "timed sum /ipfs/$cid" "timed:")
echo "cat ${mib} MiB on B from A:      ${ms} ms  $(rate "$ms") MiB/s (Bitswap over loopback TCP)"
read -r ms _ < <(ask b "timed sum /ipfs/$cid" "timed:")
echo "cat ${mib} MiB again on B:       ${ms} ms  $(rate "$ms") MiB/s (B's own store)"
