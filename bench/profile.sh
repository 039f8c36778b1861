#!/usr/bin/env bash
# Release profiles side by side: each variant is a cold build of ww in a
# target directory of its own, timed (wall, user and system seconds), and
# the ww it makes is measured as built and stripped. The variants are set
# through cargo's CARGO_PROFILE_RELEASE_* variables, so Cargo.toml is not
# touched. A whole run takes several cold builds: on 2 cores, about
# 10 minutes a variant for the minimal ww, 25 for the default one.
#
#   bench/profile.sh [CARGO BUILD ARGS...]    (default: -p ww)
#   bench/profile.sh -p ww --no-default-features --features compiler
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(-p ww)
root="$(mktemp -d "${TMPDIR:-/tmp}/ww-profiles.XXXXXX")"
trap 'rm -rf "$root"' EXIT

# name | CARGO_PROFILE_RELEASE_* settings
variants=(
    "as is (lto off, 16 units)|"
    "thin lto|LTO=thin"
    "fat lto, 1 unit|LTO=fat CODEGEN_UNITS=1"
    "fat lto, 1 unit, opt-level s|LTO=fat CODEGEN_UNITS=1 OPT_LEVEL=s"
    "fat lto, 1 unit, opt-level s, abort|LTO=fat CODEGEN_UNITS=1 OPT_LEVEL=s PANIC=abort"
)

printf 'cargo build --release %s; %s cores, %s\n' "${args[*]}" "$(nproc)" \
    "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
printf '%-34s %9s %9s %9s %12s %12s\n' variant wall_s user_s sys_s size_MiB stripped_MiB
for variant in "${variants[@]}"; do
    name="${variant%%|*}"
    settings="${variant#*|}"
    env_args=()
    for s in $settings; do env_args+=("CARGO_PROFILE_RELEASE_${s%%=*}=${s#*=}"); done
    dir="$root/target"
    rm -rf "$dir"
    times="$root/times"
    env "${env_args[@]}" CARGO_TARGET_DIR="$dir" CARGO_INCREMENTAL=0 \
        /usr/bin/time -o "$times" -f '%e %U %S' \
        cargo build --release --quiet "${args[@]}" >/dev/null 2>"$root/log" ||
        { echo "$name: build failed:" >&2; tail -20 "$root/log" >&2; exit 1; }
    read -r wall user sys <"$times"
    strip -o "$root/ww.stripped" "$dir/release/ww"
    printf '%-34s %9.0f %9.0f %9.0f %12.1f %12.1f\n' "$name" "$wall" "$user" "$sys" \
        "$(awk -v b="$(stat -c %s "$dir/release/ww")" 'BEGIN {print b / 1048576}')" \
        "$(awk -v b="$(stat -c %s "$root/ww.stripped")" 'BEGIN {print b / 1048576}')"
done
