#!/usr/bin/env bash
# Guest → provider capability call round trip (identity.verify and
# identity.publicKey), timed inside the guest: the built-in provider, then
# the same provider loaded from libww_identity.so into a minimal ww, then
# the same crate built as an executable and run as a provider process,
# jailed (the default) and with --no-jail.
# Usage: bench/call.sh [CALLS]   (run bench/build.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
calls="${1:-20000}"
image=$(mktemp -d)
trap 'rm -rf "$image"' EXIT
mkdir -p "$image/boot"
cp "$target_dir/wasm32-wasip2/release/bench-call.wasm" "$image/boot/main.wasm"
echo "built-in identity:"
"$target_dir/release/ww" run "$image" -- "$calls"
echo "libww_identity.so on a minimal ww:"
"$target_dir/release/ww-minimal" run --provider "$target_dir/release/libww_identity.so" "$image" -- "$calls"
echo "ww-identity as a provider process on a minimal ww (jailed):"
"$target_dir/release/ww-minimal" run --provider "$target_dir/release/ww-identity" "$image" -- "$calls"
echo "ww-identity as a provider process on a minimal ww (--no-jail):"
"$target_dir/release/ww-minimal" run --no-jail --provider "$target_dir/release/ww-identity" "$image" -- "$calls"
