#!/usr/bin/env bash
# Per-call cost of the typed WIT door next to the RPC vat, for the same
# operations on the same guarded capabilities, timed inside the cell.
# Usage: bench/wit.sh [CALLS]   (run bench/build.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
calls="${1:-100000}"
image=$(mktemp -d)
trap 'rm -rf "$image"' EXIT
mkdir -p "$image/boot"
cp "$target_dir/wasm32-wasip2/release/bench-wit.wasm" "$image/boot/main.wasm"
"$target_dir/release/ww" run "$image" -- "$calls"
