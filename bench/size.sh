#!/usr/bin/env bash
# Sizes of the shipped artefacts (run bench/build.sh first): as built, and
# stripped (`strip` on a copy) for the host binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT
for f in release/ww release/ww-minimal release/ww-runtime release/libww_identity.so \
         wasm32-wasip2/release/kernel.wasm wasm32-wasip2/release/hello.wasm; do
    size=$(stat -c %s "$target_dir/$f")
    case "$f" in
        *.wasm) printf '%-40s %8s KiB\n' "$f" $(( size / 1024 )) ;;
        *)
            strip -o "$stripped" "$target_dir/$f"
            printf '%-40s %8s KiB  (stripped %s KiB)\n' "$f" $(( size / 1024 )) \
                $(( $(stat -c %s "$stripped") / 1024 ))
            ;;
    esac
done
