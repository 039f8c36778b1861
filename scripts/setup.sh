#!/usr/bin/env bash
# Installs what building and running ww need and a fresh Debian machine
# with only Rust lacks: the Cap'n Proto compiler and its standard schemas
# (apt), and the wasm32-wasip2 target (rustup). What only the tests use
# (their real peers and drivers) is scripts/setup-tests.sh's. Safe to run
# again: it only installs what is missing.
set -euo pipefail

need_apt=()
command -v capnp >/dev/null 2>&1 || need_apt+=(capnproto)
[ -f /usr/include/capnp/schema.capnp ] || need_apt+=(libcapnp-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]} (apt)" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
    echo "setup: adding the wasm32-wasip2 target (rustup)" >&2
    rustup target add wasm32-wasip2
fi

