#!/usr/bin/env python3
"""A native cell written in Python with pycapnp, not with anything of ww's.

The node runs it as pid0 (`ww run ./cell.py`), jailed: it may read this file,
the Python interpreter's prefix, and what `--ro` adds (pycapnp and ww's
schemas), and nothing else of the host. Its one way out is the Cap'n Proto
two-party vat on fd 3, whose bootstrap is the cell's `Membrane`:

    ww run --ro .tools/pycapnp --ro capnp/schema --revoke-on-hup \\
        tests/cells/python/cell.py -- STATUS

It grafts, signs a nonce with `identity` and checks the signature, adds and
cats through `ipfs`, prints `ready` and waits for a line on stdin (the epoch
may advance meanwhile), calls `identity` again (a `staleEpoch` error once the
epoch has advanced), grafts again, signs in the new epoch, and exits with
STATUS (default 0). Each step prints a `step: result` line.
"""

import asyncio
import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
# scripts/setup.sh installs pycapnp here; the cell's environment is only what
# the node gives it, so no PYTHONPATH.
sys.path.insert(0, os.path.join(REPO, ".tools", "pycapnp"))

import capnp  # noqa: E402

SCHEMAS = os.path.join(REPO, "capnp", "schema")
# `import "/capnp/schema.capnp"` is found in the copy pycapnp ships.
CAPNP_INCLUDE = os.path.dirname(os.path.dirname(os.path.abspath(capnp.__file__)))
IMPORTS = [SCHEMAS, CAPNP_INCLUDE]
membrane_capnp = capnp.load(os.path.join(SCHEMAS, "membrane.capnp"), imports=IMPORTS)
identity_capnp = capnp.load(os.path.join(SCHEMAS, "identity.capnp"), imports=IMPORTS)
ipfs_capnp = capnp.load(os.path.join(SCHEMAS, "ipfs.capnp"), imports=IMPORTS)

DOMAIN = "ww/python-cell"


def say(step, result):
    print(f"{step}: {result}", flush=True)


async def graft(membrane):
    """The graft's epoch and its capabilities by name."""
    grafted = await membrane.graft()
    caps = {export.name: export.cap for export in grafted.caps}
    return grafted.epoch.seq, caps


async def sign(identity, epoch, nonce):
    """Signs `nonce` in `epoch` and has `identity` verify it."""
    key = (await identity.publicKey()).key
    signer = identity.signer(DOMAIN).signer
    signature = (await signer.sign(nonce, epoch)).signature
    data = DOMAIN.encode() + b"\0" + nonce + epoch.to_bytes(8, "big")
    valid = (await identity.verify(data, signature, key)).valid
    return key, signature, valid


async def main(status):
    sock = socket.socket(fileno=3)
    stream = await capnp.AsyncIoStream.create_unix_connection(sock=sock)
    client = capnp.TwoPartyClient(stream)
    membrane = client.bootstrap().cast_as(membrane_capnp.Membrane)

    epoch, caps = await graft(membrane)
    say("graft", f"epoch {epoch}, caps {' '.join(sorted(caps))}")
    identity = caps["identity"].as_interface(identity_capnp.Identity)
    key, signature, valid = await sign(identity, epoch, b"a python nonce")
    say("sign", f"key {len(key)} bytes, signature {len(signature)} bytes, valid {valid}")

    fs = caps["ipfs"].as_interface(ipfs_capnp.Ipfs).unixfs().api
    cid = (await fs.add(b"hello from a python cell\n")).cid
    data = (await fs.cat(cid)).data
    say("ipfs", f"added {cid}, cat {data.decode()!r}")

    say("jail", reach())

    say("ready", "waiting for a line")
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    try:
        await identity.publicKey()
        say("old", "still valid")
    except capnp.KjException as e:
        say("old", e.description)

    epoch, caps = await graft(membrane)
    identity = caps["identity"].as_interface(identity_capnp.Identity)
    _, _, valid = await sign(identity, epoch, b"a later nonce")
    say("regraft", f"epoch {epoch}, valid {valid}")
    return status


def reach():
    """What the jail lets this process reach besides its vat."""
    seen = []
    for path in ["/etc/passwd", "/root", REPO]:
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                open(path, "rb").close()
            seen.append(f"{path} open")
        except OSError:
            seen.append(f"{path} denied")
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
        seen.append("inet open")
    except OSError:
        seen.append("inet denied")
    return ", ".join(seen)


if __name__ == "__main__":
    try:
        os.fstat(3)
    except OSError:
        sys.exit(f"{sys.argv[0]} is a ww cell: run it with `ww run {sys.argv[0]}`")
    sys.exit(asyncio.run(capnp.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))))
