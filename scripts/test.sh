#!/usr/bin/env bash
# Every test: install what is missing, check formatting and lints, build the
# host, a minimal host, the provider libraries and the guests, then run the
# unit and end-to-end tests. The tests include the replay of every fuzz
# target's committed corpus (tests/fuzz/harness, on this debug build).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup-tests.sh
target_dir="${CARGO_TARGET_DIR:-target}"
# A CI run builds once: incremental caches would only take disk.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

step() { printf '\n== %s\n' "$*" >&2; }

step "format"
cargo fmt --all -- --check

step "minimal ww (no built-in providers, no optional parts but the compiler)"
cargo build -p ww --no-default-features --features compiler
cp "$target_dir/debug/ww" "$target_dir/debug/ww-minimal"

step "runtime-only ww (the minimal one without the compiler)"
cargo build -p ww --no-default-features
cp "$target_dir/debug/ww" "$target_dir/debug/ww-runtime"

step "host: ww and provider libraries"
cargo build

step "aarch64: the minimal ww and the identity library (cross-built; the tests run them under qemu-aarch64)"
cargo build --target aarch64-unknown-linux-gnu -p ww --no-default-features --features compiler -p ww-identity

step "guests (wasm32-wasip2)"
scripts/build-guests.sh

step "lints"
cargo clippy --all-targets -- -D warnings
# The trimmed builds compile other code paths (a left-out part's refusal).
cargo clippy -p ww --no-default-features --all-targets -- -D warnings
cargo clippy -p ww --no-default-features --features compiler --all-targets -- -D warnings
cargo clippy --target aarch64-unknown-linux-gnu -p ww --no-default-features --features compiler -p ww-identity -- -D warnings
cargo clippy --target wasm32-wasip2 -p ww-guest -p ww-kernel -p ww-test-guests -p ww-glia -- -D warnings

step "tests (and the fuzz corpora, replayed by ww-fuzz-harness)"
cargo test
