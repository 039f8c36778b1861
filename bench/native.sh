#!/usr/bin/env bash
# Native cells (tests/native): how long a trivial native cell takes from
# start to exit, and what a call from a native cell to a built-in provider
# costs.
#
# - spawn to exit: a native parent times SPAWNS sequential native children
#   (`quiet`: graft over fd 3, then exit), each from `Executor.spawn` to
#   `Process.wait` returning (the node is up already; its start is not in
#   it);
# - calls: CALLS sequential Identity.verify and Identity.publicKey round
#   trips timed in the cell, as bench/call.sh times them in a Wasm guest;
# - `ww run` of a native pid0 that grafts and exits, node start included
#   (compare bench/startup.sh).
#
# Each runs jailed (the default), then with --no-jail: the difference is
# the jail's set-up (a policy compiled per cell, namespaces, an init).
# Usage: bench/native.sh [SPAWNS] [CALLS] [RUNS]   (run bench/build.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
spawns="${1:-1000}"
calls="${2:-20000}"
runs="${3:-20}"
ww="$target_dir/release/ww"
cell="$target_dir/release/native-cell"
image=$(mktemp -d)
trap 'rm -rf "$image"' EXIT
# A jailed cell runs as nobody when ww is root: its image must be readable.
chmod 755 "$image"
mkdir -p "$image/boot" "$image/bin"
cp "$cell" "$image/boot/main"
cp "$cell" "$image/bin/native-cell"
export RUST_LOG=warn
for jail in "" --no-jail; do
    echo "== ${jail:-jailed}"
    echo "native child, spawn to exit ($spawns children):"
    "$ww" run $jail --allow-native-children --port 0 "$image" -- bench-spawn "$spawns" 2>/dev/null
    echo "native cell → built-in identity ($calls calls each):"
    "$ww" run $jail --port 0 "$cell" -- bench-call "$calls" 2>/dev/null
    echo "ww run of a native pid0 that grafts and exits ($runs runs, node start included):"
    times=()
    for _ in $(seq "$runs"); do
        start=$(date +%s%N); "$ww" run $jail --port 0 "$cell" -- quiet 2>/dev/null; end=$(date +%s%N)
        times+=($(( (end - start) / 1000 )))
    done
    sorted=($(printf '%s\n' "${times[@]}" | sort -n))
    echo "median $(( sorted[runs / 2] )) us over $runs runs"
done
