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

# The Kubo backend (--ipfs-url) against the js-ipfs daemon, when
# scripts/setup.sh installed it: node C adds and reads the same bytes
# through the daemon's RPC API (timed in the cell, as above), and curl
# adds and reads a file of as many bytes directly (timed here), so the
# cost of ww's path shows next to the daemon's own.
jsipfs_tools="$PWD/.tools/jsipfs"
[ -x "$jsipfs_tools/node_modules/.bin/jsipfs" ] || {
  echo "(no js-ipfs daemon under $jsipfs_tools: run scripts/setup.sh for the Kubo-API figures)"
  exit 0
}
export IPFS_PATH="$work/jsrepo" NODE_OPTIONS="--require $jsipfs_tools/polyfill.cjs"
"$jsipfs_tools/node_modules/.bin/jsipfs" init --profile test >/dev/null 2>&1
node -e '
const fs = require("fs"), p = process.argv[1], c = JSON.parse(fs.readFileSync(p));
c.Addresses.API = c.Addresses.RPC = "/ip4/127.0.0.1/tcp/0"; c.Bootstrap = [];
fs.writeFileSync(p, JSON.stringify(c));' "$IPFS_PATH/config"
"$jsipfs_tools/node_modules/.bin/jsipfs" daemon --offline >"$work/jsipfs.out" 2>&1 & pids+=($!)
unset NODE_OPTIONS
for _ in $(seq 1200); do grep -q "Daemon is ready" "$work/jsipfs.out" && break; sleep 0.1; done
port=$(grep -o 'HTTP API listening on /ip4/127.0.0.1/tcp/[0-9]*' "$work/jsipfs.out" | grep -o '[0-9]*$')
url="http://127.0.0.1:$port"
mkdir -p "$work/c"; mkfifo "$work/c.in"
"$ww" run --data-dir "$work/c" --ipfs-url "$url" "$work/image" \
  <"$work/c.in" >"$work/c.out" 2>/dev/null & pids+=($!)
exec {fd}>"$work/c.in"; fd_c=$fd
for _ in $(seq 600); do grep -q ready "$work/c.out" && break; sleep 0.1; done
added=$(ask c "timed gen $bytes 1" "timed:")
ms=${added%% *}; kcid=${added##* }
echo "add ${mib} MiB through --ipfs-url:  ${ms} ms  $(rate "$ms") MiB/s  $kcid (js-ipfs $url)"
[ "$kcid" = "$cid" ] || echo "  CID differs from the embedded store's: $cid"
read -r ms _ < <(ask c "timed sum /ipfs/$kcid" "timed:")
echo "cat ${mib} MiB through --ipfs-url:  ${ms} ms  $(rate "$ms") MiB/s"
head -c "$bytes" /dev/urandom >"$work/direct"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(now_ms)
curl -sS -X POST -F "file=@$work/direct" "$url/api/v0/add?pin=true&progress=false" >/dev/null
t1=$(now_ms)
dcid=$(curl -sS -X POST -F "file=@$work/direct" "$url/api/v0/add?only-hash=true" | grep -o '"Hash":"[^"]*"' | cut -d'"' -f4)
t2=$(now_ms)
curl -sS -X POST "$url/api/v0/cat?arg=$dcid" -o /dev/null
t3=$(now_ms)
echo "add ${mib} MiB, curl to js-ipfs:     $((t1 - t0)) ms  $(rate $((t1 - t0))) MiB/s"
echo "cat ${mib} MiB, curl from js-ipfs:   $((t3 - t2)) ms  $(rate $((t3 - t2))) MiB/s"
