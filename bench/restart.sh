#!/usr/bin/env bash
# Provider process restart time: a node runs PROGRAM as a provider process
# (pid0 is the kernel, idle on an open stdin); the provider is killed with
# SIGKILL ROUNDS times, and each restart is timed twice: the node's own
# figure (spawn, handshake and Plugin.start, as its log says "restarted (pid
# N) in X"), and from the kill to that log line (adds noticing the death
# and a 1 ms back-off, `--provider-restart backoff:1-1`). The provider runs
# jailed (the default); FLAGS go to `ww run`, e.g. `--no-jail` to compare,
# or what a script needs to start jailed:
#   bench/restart.sh 20 tests/providers/python/kv_provider.py \
#       --ro "$PWD/.tools/pycapnp" --ro "$PWD/capnp/schema"
# Usage: bench/restart.sh [ROUNDS] [PROGRAM] [FLAGS...]   (run bench/build.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
rounds="${1:-20}"
program="${2:-$target_dir/release/ww-identity}"
shift $(( $# < 2 ? $# : 2 ))
work=$(mktemp -d)
ww_pid=""
cleanup() {
    [ -n "$ww_pid" ] && kill "$ww_pid" 2>/dev/null || true
    exec 7>&- 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/img/boot"
cp "$target_dir/wasm32-wasip2/release/kernel.wasm" "$work/img/boot/main.wasm"
mkfifo "$work/stdin"
RUST_LOG=warn,ww=info "$target_dir/release/ww" run --port 0 "$@" \
    --provider-restart backoff:1-1 --provider "$program" "$work/img" \
    <"$work/stdin" >/dev/null 2>"$work/log" &
ww_pid=$!
exec 7>"$work/stdin"

# Waits (at most 30 s) until the log has N lines matching PATTERN.
wait_lines() {
    local pattern="$1" n="$2"
    for _ in $(seq 3000); do
        [ "$(grep -c "$pattern" "$work/log" || true)" -ge "$n" ] && return 0
        sleep 0.01
    done
    echo "timed out waiting for $pattern (#$n):" >&2
    cat "$work/log" >&2
    exit 1
}

wait_lines "runs as process" 1
pid=$(grep -o "runs as process [0-9]*" "$work/log" | head -1 | awk '{print $4}')
: >"$work/own"
: >"$work/wall"
for round in $(seq "$rounds"); do
    start=$(date +%s%N)
    kill -9 "$pid"
    wait_lines "restarted (pid" "$round"
    end=$(date +%s%N)
    line=$(grep "restarted (pid" "$work/log" | sed -n "${round}p")
    pid=$(echo "$line" | grep -o "restarted (pid [0-9]*" | awk '{print $3}')
    # "in 1.2ms" / "in 850.3µs"
    own=$(echo "$line" | grep -o " in [0-9.]*[mµn]*s" | awk '{print $2}')
    echo "$own" >>"$work/own"
    echo "$(( (end - start) / 1000 ))" >>"$work/wall"
done
to_us() { # 1.2ms → 1200, 850.3µs → 850
    awk '{ v=$1; if (v ~ /ms$/) { sub(/ms$/,"",v); print v*1000 } else if (v ~ /µs$/) { sub(/µs$/,"",v); print v } else if (v ~ /ns$/) { sub(/ns$/,"",v); print v/1000 } else { sub(/s$/,"",v); print v*1000000 } }'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "provider $program ${*:-(jailed)}, $rounds restarts:"
echo "  node's figure (spawn + handshake + start), median: $(to_us <"$work/own" | median) µs"
echo "  kill → restarted log line, median:                 $(median <"$work/wall") µs"
