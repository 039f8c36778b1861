#!/usr/bin/env bash
# The shell: time from `ww run std/kernel` to the first prompt on a
# terminal, and the round trip of one `(host id)` evaluation, locally
# (piped into the kernel) and remotely (`ww shell` over libp2p on loopback).
#
# A round trip is (T(N lines) - T(1 line)) / (N - 1): the start-up, login
# and exit of each run cancel out. Each T is the median of RUNS runs.
# Usage: bench/shell.sh [RUNS] [N]   (run bench/build.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
runs="${1:-10}"
n="${2:-1000}"
ww="$(pwd)/$target_dir/release/ww"
kernel="$target_dir/wasm32-wasip2/release/kernel.wasm"
for f in "$ww" "$kernel"; do
    [ -e "$f" ] || { echo "missing $f: run bench/build.sh" >&2; exit 1; }
done
work=$(mktemp -d)
node_pid=
cleanup() {
    [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/img/boot"
cp "$kernel" "$work/img/boot/main.wasm"
"$ww" keygen --output "$work/node.key" >/dev/null 2>&1
export WW_LISTEN=/ip4/127.0.0.1/tcp/0 RUST_LOG=warn,ww_core=info
cache="$work/cache"
printf 'nil\n' | "$ww" run --cache-dir "$cache" "$work/img" >/dev/null 2>&1  # fill the cache

now_us() { echo $(( $(date +%s%N) / 1000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Microseconds of one run of "$@" with stdin from $script.
timed() {
    local start end
    start=$(now_us)
    "$@" <"$script" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    end=$(now_us)
    echo $(( end - start ))
}

# Median microseconds over $runs runs of "$@" with $1 lines of (host id).
median_of() {
    local lines=$1; shift
    script="$work/script.$lines"
    yes '(host id)' | head -n "$lines" >"$script"
    for _ in $(seq "$runs"); do timed "$@"; done | median
}

round_trip() {
    local one many
    one=$(median_of 1 "$@")
    many=$(median_of "$n" "$@")
    awk -v a="$one" -v b="$many" -v n="$n" \
        'BEGIN {printf "%.1f µs per eval (T(1) %.1f ms, T(%d) %.1f ms)\n", (b-a)/(n-1), a/1000, n, b/1000}'
}

echo "nproc $(nproc), $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%F)"
echo "local, piped into ww run std/kernel: $(round_trip "$ww" run --cache-dir "$cache" "$work/img")"

# A daemon node to log in to; its stderr names the address.
: >"$work/node.err"
"$ww" run --cache-dir "$cache" --identity "$work/node.key" "$work/img" -- --daemon \
    </dev/null >/dev/null 2>"$work/node.err" &
node_pid=$!
for _ in $(seq 600); do
    grep -q 'remote shell: ww shell ' "$work/node.err" && break
    kill -0 "$node_pid" 2>/dev/null || { cat "$work/node.err" >&2; exit 1; }
    sleep 0.05
done
addr=$(grep -o 'ww shell /[^ ]*' "$work/node.err" | head -n1 | cut -d' ' -f3)
[ -n "$addr" ] || { echo "the node never served its terminal" >&2; cat "$work/node.err" >&2; exit 1; }
echo "remote, ww shell over loopback TCP: $(round_trip "$ww" shell "$addr" --identity "$work/node.key")"
kill "$node_pid"; wait "$node_pid" 2>/dev/null || true; node_pid=

# First prompt: ww on a pseudo-terminal, timed until the prompt is drawn.
prompt_us() {
    python3 - "$ww" "$cache" "$work/img" <<'PY'
import os, pty, select, signal, sys, time
ww, cache, img = sys.argv[1:4]
start = time.monotonic()
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm-256color"
    os.execv(ww, [ww, "run", "--cache-dir", cache, img])
seen = b""
deadline = start + 60
while "❯".encode() not in seen:
    if time.monotonic() > deadline:
        os.kill(pid, signal.SIGKILL)
        sys.exit("no prompt within 60 s")
    ready, _, _ = select.select([fd], [], [], 1)
    if ready:
        seen += os.read(fd, 4096)
elapsed = time.monotonic() - start
os.kill(pid, signal.SIGKILL)
os.waitpid(pid, 0)
print(int(elapsed * 1e6))
PY
}
first=$(for _ in $(seq "$runs"); do prompt_us; done | median)
echo "ww run std/kernel to the first prompt (warm cache): $(awk -v a="$first" 'BEGIN {printf "%.1f ms", a/1000}') median of $runs"
