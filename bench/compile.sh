#!/usr/bin/env bash
# A compile bomb against a node: how long the node's other work waits while
# a cell has it compile one huge function, and the node's peak RSS.
#
#   bench/compile.sh [WW] [KIB]
#
# WW is the ww binary (default: target/debug/ww); KIB the size of the
# bomb's one function (default 1024). The guest (tests/guests, bin
# compile-bomb) loads it through Executor.runtime().load while timing
# Executor.echo round trips; the script samples the node's VmHWM.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
ww="${1:-$target_dir/debug/ww}"
kib="${2:-1024}"
img="$(mktemp -d)"
cache="$(mktemp -d)"
trap 'rm -rf "$img" "$cache"' EXIT
mkdir -p "$img/boot"
cp "$target_dir/wasm32-wasip2/release/compile-bomb.wasm" "$img/boot/main.wasm"
# The guest itself compiles once, outside the measurement.
WW_LISTEN=/ip4/127.0.0.1/tcp/0 "$ww" run --cache-dir "$cache" "$img" -- flood 0 </dev/null >/dev/null 2>&1 || true
out="$(mktemp)"
WW_LISTEN=/ip4/127.0.0.1/tcp/0 "$ww" run --cache-dir "$cache" "$img" -- stall "$kib" \
    </dev/null >"$out" 2>/dev/null &
pid=$!
peak=0
while kill -0 "$pid" 2>/dev/null; do
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    if [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ]; then peak=$hwm; fi
    sleep 0.05
done
wait "$pid" || true
cat "$out"
echo "node RSS peak: $((peak / 1024)) MiB"
rm -f "$out"
