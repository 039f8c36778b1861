#!/usr/bin/env bash
# Release builds for the benchmarks: ww, a minimal ww (no built-in
# providers), a runtime-only ww (minimal, no compiler), the provider
# libraries, the native test cell and the guests.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
cargo build --release -p ww --no-default-features
cp "$target_dir/release/ww" "$target_dir/release/ww-runtime"
cargo build --release -p ww --no-default-features --features compiler
cp "$target_dir/release/ww" "$target_dir/release/ww-minimal"
cargo build --release -p ww -p ww-identity -p ww-native-cell
scripts/build-guests.sh
