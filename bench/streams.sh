#!/usr/bin/env bash
# A writer that pipelines writes to a libp2p stream whose reader does not
# read (run bench/build.sh first, or point WW at any ww binary): node B's
# `net sink` holds the stream unread; node A's `net flood` sends MIB writes
# of 1 MiB at once. Prints A's peak RSS while its writes wait, whether A
# held the writer back (the WARN naming --max-call-bytes), then lets B
# read and prints how long the waiting writes took to arrive.
# Usage: WW=path/to/ww bench/streams.sh [MIB] [tcp|quic-v1] [ww run flags for A...]
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
ww="${WW:-$target_dir/release/ww}"
mib="${1:-256}"
transport="${2:-tcp}"
shift $(( $# < 2 ? $# : 2 ))
guests="$target_dir/wasm32-wasip2/release"
work=$(mktemp -d)
pids=()
trap 'kill -9 "${pids[@]}" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
mkdir -p "$work/img/boot"
cp "$guests/net.wasm" "$work/img/boot/main.wasm"
proto=/ww/bench/sink/1.0.0
now_ms() { date +%s%3N; }
# Free loopback ports for both nodes, TCP and QUIC.
listen=(--listen /ip4/127.0.0.1/tcp/0 --listen /ip4/127.0.0.1/udp/0/quic-v1)

fifo=$(mktemp -u); mkfifo "$fifo"; exec 3<>"$fifo"; rm "$fifo"
(exec "$ww" run --no-cache "${listen[@]}" "$work/img" -- sink "$proto" <&3 >"$work/b.out" 2>"$work/b.err") & pids+=($!)
until grep -q '^serving' "$work/b.out" 2>/dev/null; do sleep 0.05; done
addr=$(grep "^addr: .*/$transport/" "$work/b.out" | head -1 | cut -d' ' -f2)

(exec "$ww" run --no-cache "${listen[@]}" "$@" "$work/img" -- flood "$addr" "$proto" "$mib" >"$work/a.out" 2>"$work/a.err") & a=$!; pids+=($a)
until grep -q '^flood: sent' "$work/a.out" 2>/dev/null; do sleep 0.05; done
# Held back at its bound, or (with a bound above MIB) everything in flight.
for _ in $(seq 1 200); do
    grep -q 'bytes of calls in flight' "$work/a.err" && break
    sleep 0.05
done
held=$(grep -c 'bytes of calls in flight' "$work/a.err" || true)
peak=$(awk '/VmHWM/ {print $2}' /proc/$a/status)
start=$(now_ms)
echo go >&3
until grep -q '^flood: .* written\|failed' "$work/a.out" 2>/dev/null; do sleep 0.01; done
ms=$(( $(now_ms) - start ))
echo "transport=$transport mib=$mib writer_peak_rss_kib=$peak held_back=$held drained_ms=$ms result=\"$(grep '^flood: .*\(written\|failed\)' "$work/a.out")\" sink=\"$(grep '^sink:' "$work/b.out" || true)\""
