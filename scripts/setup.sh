#!/usr/bin/env bash
# Installs what building and running ww need and a fresh Debian machine
# with only Rust lacks: the Cap'n Proto compiler and its standard schemas
# (apt), and the wasm32-wasip2 target (rustup). What only the tests use
# (their real peers and drivers) is scripts/setup-tests.sh's. Safe to run
# again: it only installs what is missing.
set -euo pipefail

. "$(dirname "$0")/apt.sh"
command -v capnp >/dev/null 2>&1 || apt_want capnproto
[ -f /usr/include/capnp/schema.capnp ] || apt_want libcapnp-dev
apt_install

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
    echo "setup: adding the wasm32-wasip2 target (rustup)" >&2
    rustup target add wasm32-wasip2
fi

