#!/usr/bin/env bash
# CPU fairness (run bench/build.sh first, or point WW at any ww binary):
#
# 1. A remote shell's round trip under load: a kernel node whose service
#    `swarm` holds N children that compute without end; `ww shell` over
#    loopback evaluates `(+ 1 2)` EVALS times, one form at a time, each
#    timed from the line written to the answer read; p50, p99 and the worst.
# 2. Shares that follow the tree: the spawner's `fair 16 MS` scenario, a
#    child with 16 spinners beside one spinner with a CPU budget of MS ms:
#    the CPU the sixteen used together by the time the lone one was stopped.
#
# Usage: WW=path/to/ww [CACHE=dir] bench/fairness.sh [EVALS] [N...]
# (default: 200 evaluations, N = 0 and 64).
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
ww="$(realpath "${WW:-$target_dir/release/ww}")"
evals="${1:-200}"
shift || true
counts=("${@:-0 64}")
# shellcheck disable=SC2206
counts=(${counts[*]})
guests="$target_dir/wasm32-wasip2/release"
for f in "$ww" "$guests/kernel.wasm" "$guests/spawner.wasm" "$guests/spin.wasm"; do
    [ -e "$f" ] || { echo "missing $f: run bench/build.sh" >&2; exit 1; }
done
cache="${CACHE:-$(mktemp -d)}"
work=$(mktemp -d)
node_pid=
cleanup() {
    [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null || true
    rm -rf "$work"
    [ -n "${CACHE:-}" ] || rm -rf "$cache"
}
trap cleanup EXIT
"$ww" keygen --output "$work/node.key" >/dev/null 2>&1

image() { # image DIR N: the kernel, with a service holding N spinners
    mkdir -p "$1/boot" "$1/bin" "$1/etc/init.d"
    cp "$guests/kernel.wasm" "$1/boot/main.wasm"
    cp "$guests/spin.wasm" "$1/bin/spin.wasm"
    if [ "$2" -gt 0 ]; then
        mkdir -p "$1/svc/swarm/boot" "$1/svc/swarm/etc"
        cp "$guests/spawner.wasm" "$1/svc/swarm/boot/main.wasm"
        echo "hold $2" >"$1/svc/swarm/etc/scenario"
        echo '(grant "swarm" executor)' >"$1/etc/init.d/00-grant.glia"
    fi
}

echo "nproc $(nproc), $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%F), $ww"
for n in "${counts[@]}"; do
    dir="$work/img$n"
    image "$dir" "$n"
    : >"$work/node.out"; : >"$work/node.err"
    "$ww" run --cache-dir "$cache" --identity "$work/node.key" --listen /ip4/127.0.0.1/tcp/0 \
        --config max-children=$((n + 8)) "$dir" -- --daemon \
        </dev/null >"$work/node.out" 2>"$work/node.err" &
    node_pid=$!
    ready() {
        grep -q 'remote shell: ww shell ' "$work/node.err" &&
            { [ "$n" -eq 0 ] || grep -q "holding $n spinners" "$work/node.out"; }
    }
    for _ in $(seq 1200); do
        ready && break
        kill -0 "$node_pid" 2>/dev/null || { cat "$work/node.err" >&2; exit 1; }
        sleep 0.1
    done
    ready || { echo "the node did not come up" >&2; cat "$work/node.err" >&2; exit 1; }
    addr=$(grep -o 'ww shell /[^ ]*' "$work/node.err" | head -n1 | cut -d' ' -f3)
    python3 - "$ww" "$addr" "$work/node.key" "$evals" "$n" <<'PY'
import subprocess, sys, time
ww, addr, key, evals, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
sh = subprocess.Popen([ww, "shell", addr, "--identity", key], stdin=subprocess.PIPE,
                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
def once():
    start = time.monotonic()
    sh.stdin.write(b"(+ 1 2)\n")
    line = sh.stdout.readline()
    if line.strip() != b"3":
        sys.exit(f"unexpected answer {line!r}")
    return (time.monotonic() - start) * 1000
once()  # the login and the first evaluation
times = sorted(once() for _ in range(evals))
sh.stdin.close()
sh.wait()
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"{n:>3} spinning children: (+ 1 2) p50 {pick(0.5):.2f} ms, p99 {pick(0.99):.2f} ms, "
      f"max {times[-1]:.2f} ms ({evals} evaluations)")
PY
    kill "$node_pid"; wait "$node_pid" 2>/dev/null || true; node_pid=
done

# Shares that follow the tree.
dir="$work/fair"
mkdir -p "$dir/boot" "$dir/bin"
cp "$guests/spawner.wasm" "$dir/boot/main.wasm"
cp "$guests/spawner.wasm" "$guests/spin.wasm" "$dir/bin/"
"$ww" run --cache-dir "$cache" --listen /ip4/127.0.0.1/tcp/0 "$dir" -- fair 16 1000 \
    </dev/null 2>/dev/null | grep -E '^(lone|swarm):' | paste -sd ';' | sed 's/;/; /'
