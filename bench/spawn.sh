#!/usr/bin/env bash
# Spawn benchmarks through the executor (run bench/build.sh first):
# spawn → exit latency of a hello child, spawns per second sequential and 8
# in flight, and RSS per idle child.
# Usage: bench/spawn.sh [SPAWNS] [IDLE]
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
spawns="${1:-2000}"
idle="${2:-1000}"
guests="$target_dir/wasm32-wasip2/release"
ww="$target_dir/release/ww"
image=$(mktemp -d)
cache=$(mktemp -d)
trap 'rm -rf "$image" "$cache"' EXIT
mkdir -p "$image/boot" "$image/bin"
cp "$guests/bench-spawn.wasm" "$image/boot/main.wasm"
cp "$guests/hello.wasm" "$guests/upcase.wasm" "$image/bin/"
# Many idle children: each is limited to 8 MiB (they need ~2) and the
# node's memory budget is sized to hold them all, on any machine: each
# cell reserves its limit and the 36 MiB its default RPC bounds let it
# make the node hold.
many=(--max-cells $((idle + 10)) --config max-children=$((idle + 10))
      --max-memory 8 --max-memory-total $(( (idle + 10) * (8 + 36) + 256 + 2 * 36 )))
run() { "$ww" run --cache-dir "$cache" "${many[@]}" "$image" -- "$@"; }
if [ "${SKIP_LATENCY:-}" != 1 ]; then
    run latency 20 >/dev/null 2>&1   # fill the compile cache
    run latency "$spawns" 2>/dev/null
    run throughput "$spawns" 1 2>/dev/null
    run throughput "$spawns" 8 2>/dev/null
fi
# Idle children: RSS of the node before and while holding them.
fifo=$(mktemp -u); mkfifo "$fifo"
exec 3<>"$fifo"; rm "$fifo"
# `exec` makes $! the node itself, not a subshell around it.
(exec "$ww" run --cache-dir "$cache" "$image" -- idle 0 <&3 >"$image/out0" 2>/dev/null) & pid=$!
until grep -q "^idle" "$image/out0" 2>/dev/null; do sleep 0.1; done
base=$(awk '/VmRSS/ {print $2}' /proc/$pid/status); echo >&3; wait $pid || true
(exec "$ww" run --cache-dir "$cache" "${many[@]}" \
    "$image" -- idle "$idle" <&3 >"$image/out1" 2>/dev/null) & pid=$!
until grep -q "^idle" "$image/out1" 2>/dev/null; do sleep 0.1; done
full=$(awk '/VmRSS/ {print $2}' /proc/$pid/status); echo >&3; wait $pid || true
echo "idle children=$idle node_rss_kib=$full baseline_kib=$base per_child_kib=$(( (full - base) / idle ))"
