#!/usr/bin/env bash
# Builds every guest (the kernel, the test guests, the std/ examples) for wasm32-wasip2 and puts
# the kernel at std/kernel/boot/main.wasm, so std/kernel is a bootable image.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --target wasm32-wasip2 -p ww-kernel -p ww-test-guests -p ww-examples
target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p std/kernel/boot
cp "$target_dir/wasm32-wasip2/release/kernel.wasm" std/kernel/boot/main.wasm
