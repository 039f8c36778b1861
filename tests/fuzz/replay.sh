#!/usr/bin/env bash
# Runs every fuzz target once over each input of its committed corpus
# (libFuzzer's -runs=0: no random exploration), so an input that once
# crashed ww fails the tests if the bug comes back. The build is its own
# (coverage-instrumented, release) in <target-dir>/fuzz.
set -euo pipefail
cd "$(dirname "$0")/../.."
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/fuzz"
flags=(--fuzz-dir tests/fuzz -s none --codegen-units 16 --target-dir "$target_dir")
cargo fuzz build "${flags[@]}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for corpus in tests/fuzz/corpus/*/; do
    target="$(basename "$corpus")"
    if cargo fuzz run "${flags[@]}" "$target" "$corpus" -- -runs=0 >"$log" 2>&1; then
        echo "fuzz: $target: $(grep -o 'INITED.*' "$log" | head -1)" >&2
    else
        tail -40 "$log" >&2
        echo "fuzz: $target failed on its committed corpus; rerun with:" >&2
        echo "  cargo fuzz run ${flags[*]} $target $corpus -- -runs=0" >&2
        exit 1
    fi
done
