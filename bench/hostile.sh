#!/usr/bin/env bash
# Hostile cells against a node (run bench/build.sh first, or point WW at
# any ww binary): for each attack of tests/guests/src/bin/hostile.rs, the
# node's peak RSS after SECONDS of attack, and how long the kernel's shell
# takes to answer `(+ 40 2)` while the attack runs (the attacker is the
# kernel's service `attack`).
# Usage: WW=path/to/ww [CACHE=dir] bench/hostile.sh [SECONDS]
# (CACHE: a compile cache kept between runs, e.g. to compare two builds).
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
ww="${WW:-$target_dir/release/ww}"
seconds="${1:-10}"
guests="$target_dir/wasm32-wasip2/release"
cache="${CACHE:-$(mktemp -d)}"
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${CACHE:-}" ] || rm -rf "$cache"' EXIT

image() { # image DIR WORDS: the kernel with the hostile service running WORDS
    mkdir -p "$1/boot" "$1/bin" "$1/svc/attack/boot" "$1/svc/attack/etc" "$1/etc/init.d"
    cp "$guests/kernel.wasm" "$1/boot/main.wasm"
    cp "$guests/hostile.wasm" "$1/svc/attack/boot/main.wasm"
    cp "$guests/hostile.wasm" "$1/bin/hostile.wasm"
    echo "$2" >"$1/svc/attack/etc/attack"
    echo '(grant "attack" executor identity)' >"$1/etc/init.d/00-grant.glia"
}

now_ms() { date +%s%3N; }

for attack in "amplify 64" "unread 2000000" "caps 200000" "flood 2048"; do
    dir="$work/${attack%% *}"
    image "$dir" "$attack"
    fifo=$(mktemp -u); mkfifo "$fifo"; exec 3<>"$fifo"; rm "$fifo"
    (exec "$ww" run --cache-dir "$cache" --listen /ip4/127.0.0.1/tcp/0 "$dir" <&3 >"$dir/out" 2>"$dir/err") & pid=$!
    # The shell answers once the kernel is up (the first run compiles).
    echo '(+ 1 1)' >&3
    until grep -q '^2$' "$dir/out" 2>/dev/null; do sleep 0.1; done
    sleep "$seconds"
    # Latency of the shell under attack: five evaluations, one at a time.
    lat=()
    for i in 1 2 3 4 5; do
        n=$((40 + i)); start=$(now_ms); echo "(+ $n 1)" >&3
        until grep -q "^$((n + 1))\$" "$dir/out" 2>/dev/null; do sleep 0.005; done
        lat+=($(( $(now_ms) - start )))
    done
    peak=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
    kill -9 $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; exec 3>&-
    bound=$(grep -o 'its bound[^;]*' "$dir/err" | head -1 || true)
    echo "attack=\"$attack\" peak_rss_kib=$peak shell_ms=${lat[*]} bound=\"${bound:-none}\""
done
