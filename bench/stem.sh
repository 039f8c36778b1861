#!/usr/bin/env bash
# Revocation latency under --stem: N heads are set on an Atom on a local
# anvil and mined K deep; for each, ww logs `revoked_us`, the time from the
# arrival of the block that made the update K deep to the epoch advance
# (after which every capability of the old epoch fails staleEpoch). The
# node runs the `epoch` test guest, which holds capabilities throughout.
#
#   bench/stem.sh [N] [K]        (WW=target/release/ww to use another build)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20}"
k="${2:-2}"
ww="${WW:-target/debug/ww}"
anvil=".tools/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
guest="target/wasm32-wasip2/release/epoch.wasm"
for f in "$ww" "$anvil" "$guest"; do
    [ -e "$f" ] || { echo "missing $f: run scripts/setup.sh, cargo build and scripts/build-guests.sh" >&2; exit 1; }
done

tmp="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

"$anvil" --host 127.0.0.1 --port 0 >"$tmp/anvil.log" 2>&1 &
pids+=($!)
wait_for() { # FILE PATTERN COUNT: until FILE has COUNT lines matching PATTERN (60 s)
    for _ in $(seq 600); do
        [ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -ge "$3" ] && return 0
        sleep 0.1
    done
    echo "timed out waiting for '$2' in $1" >&2
    exit 1
}
wait_for "$tmp/anvil.log" "Listening on" 1
port="$(grep -o 'Listening on 127.0.0.1:[0-9]*' "$tmp/anvil.log" | cut -d: -f2)"
rpc() {
    curl -s -X POST -H 'Content-Type: application/json' \
        --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" \
        "http://127.0.0.1:$port"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['result']$1)"; }
from=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
transact() { # TO-JSON DATA -> receipt
    hash="$(rpc eth_sendTransaction "[{\"from\":\"$from\"$1,\"data\":\"0x$2\",\"gas\":\"0x200000\"}]" | field '')"
    rpc eth_getTransactionReceipt "[\"$hash\"]"
}
atom="$(transact "" "$(cat core/stem/contracts/Atom.bin)" | field "['contractAddress']")"

mkdir -p "$tmp/img/boot"
cp "$guest" "$tmp/img/boot/main.wasm"
mkfifo "$tmp/stdin"
exec 3<>"$tmp/stdin"
RUST_LOG=warn,ww_core=info WW_DATA_DIR="$tmp/data" WW_LISTEN=/ip4/127.0.0.1/tcp/0 \
    "$ww" run --stem "$atom" --rpc-url "http://127.0.0.1:$port" --ws-url "ws://127.0.0.1:$port" \
    --confirmation-depth "$k" --stem-cursor "$tmp/cursor.json" "$tmp/img" \
    <&3 >"$tmp/out.log" 2>"$tmp/err.log" &
pids+=($!)
wait_for "$tmp/out.log" ready 1

for i in $(seq "$n"); do
    # setHead(CIDv1 raw identity of "head-$i").
    data="$(python3 -c "
import sys
cid = bytes([1, 0x55, 0, len(b'head-$i')]) + b'head-$i'
word = lambda x: format(x, '064x')
body = cid.hex() + '0' * (-len(cid.hex()) % 64)
print('43eae823' + word(32) + word(len(cid)) + body)")"
    transact ",\"to\":\"$atom\"" "$data" >/dev/null
    rpc anvil_mine "[\"0x$(printf %x "$k")\"]" >/dev/null
    wait_for "$tmp/err.log" "moved to the adopted head" "$i"
done

sed 's/\x1b\[[0-9;]*m//g' "$tmp/err.log" | grep -o 'revoked_us=[0-9]*' | cut -d= -f2 |
    python3 -c "
import sys
v = sorted(int(x) / 1000 for x in sys.stdin)
p = lambda q: v[min(len(v) - 1, int(q * len(v)))]
print(f'heads={len(v)} depth=$k  confirmation -> revocation: p50 {p(0.5):.2f} ms, p90 {p(0.9):.2f} ms, max {v[-1]:.2f} ms')"
