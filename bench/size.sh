#!/usr/bin/env bash
# Sizes of the shipped artefacts (run bench/build.sh first).
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
for f in release/ww release/ww-minimal release/libww_identity.so \
         wasm32-wasip2/release/kernel.wasm wasm32-wasip2/release/hello.wasm; do
    printf '%-40s %8s KiB\n' "$f" $(( $(stat -c %s "$target_dir/$f") / 1024 ))
done
