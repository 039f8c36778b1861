#!/usr/bin/env bash
# Memory of an idle node: WW runs IMAGE, whose pid0 waits on its stdin
# (the test guest `upcase` does: build the guests, then make an image of
# target/wasm32-wasip2/release/upcase.wasm as boot/main.wasm). Once the
# node's resident set has not changed for a second, its VmRSS, its peak
# (VmHWM) and its thread count are printed. A runtime-only WW needs the
# image precompiled: `ww compile IMAGE --cache-dir DIR` with a full ww of
# the same version, then pass `--cache-dir DIR` here.
#
#   bench/idle-rss.sh WW IMAGE [ww run flags...]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 WW IMAGE [ww run flags...]" >&2; exit 2; }
ww="$1" image="$2"
shift 2
dir="$(mktemp -d)"
mkfifo "$dir/stdin"
"$ww" run "$@" "$image" <"$dir/stdin" >/dev/null 2>"$dir/log" &
node=$!
exec 3>"$dir/stdin"
trap 'exec 3>&-; wait "$node" 2>/dev/null || true; rm -rf "$dir"' EXIT
rss() { awk '/^VmRSS/ {print $2}' "/proc/$node/status"; }
last="" same=0
for _ in $(seq 300); do
    kill -0 "$node" 2>/dev/null || { echo "ww exited early:" >&2; cat "$dir/log" >&2; exit 1; }
    now="$(rss)"
    if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; last="$now"; fi
    [ "$same" -lt 10 ] || break
    sleep 0.1
done
[ "$same" -ge 10 ] || { echo "the node's memory did not settle in 30 s" >&2; exit 1; }
awk '/^(VmRSS|VmHWM|Threads)/ {printf "%s %s %s\n", $1, $2, $3}' "/proc/$node/status"
