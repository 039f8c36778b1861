#!/usr/bin/env bash
# The main job: install what is missing, build ww and the kernel, and boot
# std/kernel on the built-in providers. Extra arguments go to `ww run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -p ww
target_dir="${CARGO_TARGET_DIR:-target}"
"$target_dir/release/ww" build std/kernel
exec "$target_dir/release/ww" run "$@" std/kernel
