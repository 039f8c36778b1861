#!/usr/bin/env bash
# Pulley, Wasmtime's portable interpreter, against native code: a cell that
# does ROUNDS rounds of integer arithmetic (tests/guests, bin bench-loop),
# run by the same ww natively and with `--target pulley64`, each from a
# warm compile cache. Prints the median wall time of RUNS runs of each and
# their ratio. Run bench/build.sh first (a release ww; the interpreter of a
# debug build is no measure of anything).
#
#   bench/pulley.sh [WW] [ROUNDS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
ww="${1:-$target_dir/release/ww}"
rounds="${2:-100000000}"
runs="${3:-5}"
img="$(mktemp -d)"
cache="$(mktemp -d)"
trap 'rm -rf "$img" "$cache"' EXIT
mkdir -p "$img/boot"
cp "$target_dir/wasm32-wasip2/release/bench-loop.wasm" "$img/boot/main.wasm"
export WW_LISTEN=/ip4/127.0.0.1/tcp/0

# Median wall time, in ms, of $runs runs of `ww run [flags] img -- rounds`.
median_ms() {
    local times=() t0 t1 out
    for _ in $(seq "$runs"); do
        t0=$(date +%s%N)
        out=$("$ww" run --cache-dir "$cache" "$@" "$img" -- "$rounds" </dev/null 2>/dev/null)
        t1=$(date +%s%N)
        [ -n "$out" ] || { echo "ww run $* printed nothing" >&2; exit 1; }
        times+=($(( (t1 - t0) / 1000000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# Compile both once, outside the measurement.
"$ww" compile --cache-dir "$cache" "$img" 2>/dev/null
"$ww" compile --target pulley64 --cache-dir "$cache" "$img" 2>/dev/null
native=$(median_ms)
pulley=$(median_ms --target pulley64)
printf 'rounds %s, median of %s runs\n' "$rounds" "$runs"
printf '  native   %8s ms\n' "$native"
printf '  pulley64 %8s ms  (%s x native)\n' "$pulley" \
    "$(awk -v p="$pulley" -v n="$native" 'BEGIN {printf "%.1f", p / n}')"
