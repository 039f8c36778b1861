#!/usr/bin/env bash
# `ww run` of a hello image to exit: cold (empty compile cache) and warm.
# Uses hyperfine when installed (apt-get install hyperfine), else a loop.
# Usage: bench/startup.sh [RUNS]   (run bench/build.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
runs="${1:-20}"
ww="$target_dir/release/ww"
image=$(mktemp -d)
cache=$(mktemp -d)
trap 'rm -rf "$image" "$cache"' EXIT
mkdir -p "$image/boot"
cp "$target_dir/wasm32-wasip2/release/hello.wasm" "$image/boot/main.wasm"
cold="rm -rf $cache/c && $ww run --cache-dir $cache/c $image >/dev/null"
warm="$ww run --cache-dir $cache/w $image >/dev/null"
eval "$warm"  # fill the warm cache
if command -v hyperfine >/dev/null; then
    hyperfine -N --runs "$runs" --warmup 2 -n cold "bash -c '$cold'" -n warm "$warm" 2>/dev/null \
        || hyperfine --runs "$runs" --warmup 2 -n cold "$cold" -n warm "$warm"
else
    for name in cold warm; do
        cmd=${!name}
        times=()
        for _ in $(seq "$runs"); do
            start=$(date +%s%N); eval "$cmd"; end=$(date +%s%N)
            times+=($(( (end - start) / 1000 )))
        done
        sorted=($(printf '%s\n' "${times[@]}" | sort -n))
        echo "$name: median $(( sorted[runs / 2] / 1000 )) ms over $runs runs"
    done
fi
