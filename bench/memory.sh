#!/usr/bin/env bash
# Node memory under attack by memory-hungry children (run bench/build.sh
# first): the spawner guest's `hogs` scenario spawns up to HOGS balloon
# children, each with a memory limit of LIMIT MiB (0: the node's default)
# and holding FILL MiB, until the node refuses one. Prints the node's VmRSS
# while they are held and its VmHWM (peak) once each has been let go to
# run into its limit.
# Usage: bench/memory.sh [HOGS] [FILL] [LIMIT] [ww run flags...]
# WW=path/to/ww picks the binary (default: the release build).
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
hogs="${1:-16}"
fill="${2:-200}"
limit="${3:-256}"
shift $(( $# < 3 ? $# : 3 ))
guests="$target_dir/wasm32-wasip2/release"
ww="${WW:-$target_dir/release/ww}"
image=$(mktemp -d)
cache=$(mktemp -d)
trap 'rm -rf "$image" "$cache"' EXIT
mkdir -p "$image/boot" "$image/bin"
cp "$guests/spawner.wasm" "$image/boot/main.wasm"
cp "$guests/balloon.wasm" "$guests/upcase.wasm" "$image/bin/"
fifo=$(mktemp -u); mkfifo "$fifo"
exec 3<>"$fifo"; rm "$fifo"
# `exec` makes $! the node itself, not a subshell around it.
(exec "$ww" run --cache-dir "$cache" "$@" "$image" -- hogs "$hogs" "$fill" "$limit" \
    <&3 >"$image/out" 2>"$image/err") & pid=$!
until grep -q "^full" "$image/out" 2>/dev/null; do
    kill -0 $pid 2>/dev/null || { cat "$image/err" >&2; exit 1; }
    sleep 0.1
done
held=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
echo >&3
until grep -q "^done" "$image/out" 2>/dev/null; do
    kill -0 $pid 2>/dev/null || { cat "$image/err" >&2; exit 1; }
    sleep 0.1
done
peak=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo >&3; wait $pid || true
refused=$(grep -m1 "^refused [0-9]" "$image/out" || echo "refused: none")
echo "hogs=$hogs fill_mib=$fill limit_mib=$limit flags='$*' $(grep '^full' "$image/out")"
echo "node_rss_held_kib=$held node_peak_kib=$peak"
echo "$refused"
