#!/usr/bin/env bash
# Revocation and re-graft latency under --stem: N image trees are pushed,
# set as heads on an Atom on a local anvil one by one and mined K deep. For
# each, ww logs `revoked_us`, the time from the arrival of the block that
# made the update K deep to the epoch advance (the new head already swapped
# in as the base layer; every capability of the old epoch fails staleEpoch
# from then on), `held_us` and `swapped_us`, the parts of it until the
# head's tree was pinned and fetched and until it was swapped in, and `confirmed_unix_us`, the wall clock of that arrival.
# pid0 is the `stem` test guest in `watch` mode: it keeps a `wait` on a
# child in flight, which fails staleEpoch at the advance; it grafts again at
# once and prints the wall clock (`regraft: epoch=N unix_us=T`). Re-graft
# time = T - confirmed_unix_us.
#
#   bench/stem.sh [N] [K]        (WW=target/release/ww to use another build)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20}"
k="${2:-2}"
ww="${WW:-target/debug/ww}"
anvil=".tools/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
guest="target/wasm32-wasip2/release/stem.wasm"
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
        count="$(grep -c -- "$2" "$1" 2>/dev/null || true)"
        [ "${count:-0}" -ge "$3" ] && return 0
        sleep 0.1
    done
    echo "timed out waiting for '$2' in $1; ww's last log lines:" >&2
    tail -n 5 "$tmp/err.log" >&2 2>/dev/null || true
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
# The head trees: in the node's store before it starts (so the bench times
# the swap, not a network fetch).
for i in $(seq "$n"); do
    mkdir -p "$tmp/heads/$i/etc"
    echo "head $i" >"$tmp/heads/$i/etc/motd"
    WW_DATA_DIR="$tmp/data" "$ww" push "$tmp/heads/$i" >/dev/null
done
key="$tmp/owner.key"
echo ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 >"$key"
RUST_LOG=warn,ww_core=info WW_DATA_DIR="$tmp/data" WW_LISTEN=/ip4/127.0.0.1/tcp/0 \
    "$ww" run --stem "$atom" --rpc-url "http://127.0.0.1:$port" --ws-url "ws://127.0.0.1:$port" \
    --confirmation-depth "$k" --stem-cursor "$tmp/cursor.json" "$tmp/img" -- watch \
    </dev/null >"$tmp/out.log" 2>"$tmp/err.log" &
pids+=($!)
wait_for "$tmp/out.log" "watching epoch=0" 1

for i in $(seq "$n"); do
    # setHead(tree i), from a store of its own.
    WW_DATA_DIR="$tmp/publisher" "$ww" push "$tmp/heads/$i" --stem "$atom" \
        --rpc-url "http://127.0.0.1:$port" --private-key-file "$key" >/dev/null 2>&1
    rpc anvil_mine "[\"0x$(printf %x "$k")\"]" >/dev/null
    wait_for "$tmp/err.log" "moved to the adopted head" "$i"
    wait_for "$tmp/out.log" "watching epoch=$i" 1
done

sed 's/\x1b\[[0-9;]*m//g' "$tmp/err.log" | grep 'moved to the adopted head' >"$tmp/moves.log"
grep '^regraft:' "$tmp/out.log" >"$tmp/regrafts.log"
python3 - "$tmp/moves.log" "$tmp/regrafts.log" "$k" <<'PY'
import re, sys
moves = {}
revoked = []
held = []
swapped = []
for line in open(sys.argv[1]):
    f = dict(re.findall(r'(\w+)=(\S+)', line))
    moves[int(f['epoch'])] = int(f['confirmed_unix_us'])
    revoked.append(int(f['revoked_us']) / 1000)
    held.append(int(f['held_us']) / 1000)
    swapped.append(int(f['swapped_us']) / 1000)
regraft = []
for line in open(sys.argv[2]):
    f = dict(re.findall(r'(\w+)=(\S+)', line))
    regraft.append((int(f['unix_us']) - moves[int(f['epoch'])]) / 1000)
def show(name, v):
    v = sorted(v)
    p = lambda q: v[min(len(v) - 1, int(q * len(v)))]
    print(f'  confirmation -> {name}: p50 {p(0.5):.2f} ms, p90 {p(0.9):.2f} ms, max {v[-1]:.2f} ms')
print(f'heads={len(revoked)} depth={sys.argv[3]}')
show('head pinned and fetched', held)
show('base layer swapped', swapped)
show('revocation (epoch advanced)', revoked)
show('re-graft by pid0', regraft)
PY
