#!/usr/bin/env python3
"""A ww provider process written in Python with pycapnp, not with ww's SDK.

It speaks the provider protocol of capnp/schema/provider.capnp on the Unix
socket at fd 3: one `Hello` (protocol number, manifest, needs), the node's
`Welcome`, then a two-party Cap'n Proto vat whose bootstrap is a `Plugin`.
`Plugin.start` returns one export, `kv` (kv.capnp), with its schema nodes, so
guests and the Glia shell can call it without compiled-in types.

    ww run --ro .tools/pycapnp --ro capnp/schema \
        --provider tests/providers/python/kv_provider.py IMAGE

Options (for tests): --protocol N announces another protocol number;
--name NAME names the provider and its export; --network declares that it
needs the host's network (which the operator must grant); --schemas DIR reads
ww's schemas (provider.capnp, membrane.capnp, ...) from DIR instead of this
checkout's capnp/schema, e.g. an older or newer copy of them.
"""

import argparse
import asyncio
import logging
import os
import socket
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
# scripts/setup.sh installs pycapnp here (the node gives a provider no
# environment of its own, so no PYTHONPATH).
sys.path.insert(0, os.path.join(REPO, ".tools", "pycapnp"))

import capnp  # noqa: E402

def schemas_dir():
    """--schemas DIR, read before argparse runs: the schemas are loaded at
    import time, below."""
    if "--schemas" in sys.argv:
        at = sys.argv.index("--schemas")
        if at + 1 < len(sys.argv):
            return os.path.abspath(sys.argv[at + 1])
    return os.path.join(REPO, "capnp", "schema")


SCHEMAS = schemas_dir()
# `import "/capnp/schema.capnp"` is found in the copy pycapnp ships, so the
# script reads nothing of the host's but pycapnp and ww's schemas (jailed, it
# is given those with `--ro`, and nothing else).
CAPNP_INCLUDE = os.path.dirname(os.path.dirname(os.path.abspath(capnp.__file__)))
IMPORTS = [SCHEMAS, CAPNP_INCLUDE]
provider_capnp = capnp.load(os.path.join(SCHEMAS, "provider.capnp"), imports=IMPORTS)
# The schema.capnp that membrane.capnp's `Export.schema` is typed with (the
# parser loads each file once).
schema_capnp = capnp.load(
    os.path.join(CAPNP_INCLUDE, "capnp", "schema.capnp"), imports=IMPORTS
)
kv_capnp = capnp.load(os.path.join(HERE, "kv.capnp"), imports=IMPORTS)

log = logging.getLogger("kv")

# Set by `hangUp`: once the node is gone, keep running anyway.
HUNG_UP = False


class Kv(kv_capnp.Kv.Server):
    """A dictionary in the process's memory."""

    def __init__(self):
        self.data = {}

    async def get(self, key, _context, **kwargs):
        found = key in self.data
        _context.results.found = found
        _context.results.value = self.data.get(key, "")

    async def set(self, key, value, _context, **kwargs):
        self.data[key] = value

    async def hang(self, _context, **kwargs):
        log.warning("hang: holding this call (pid %d)", os.getpid())
        await asyncio.get_running_loop().create_future()

    async def pid(self, _context, **kwargs):
        _context.results.pid = os.getpid()

    async def hangUp(self, _context, **kwargs):
        global HUNG_UP
        HUNG_UP = True
        log.warning("hangUp: shutting the connection down and running on (pid %d)", os.getpid())
        # A duplicate shares the socket: shutting it down ends the node's side.
        socket.socket(fileno=os.dup(3)).shutdown(socket.SHUT_RDWR)

    async def dial(self, address, _context, **kwargs):
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=10).close()
            _context.results.connected = True
        except (OSError, ValueError) as e:
            _context.results.connected = False
            _context.results.error = str(e)


class Plugin(provider_capnp.Plugin.Server):
    """The bootstrap capability: `start` once, returning the exports."""

    def __init__(self, name):
        self.name = name
        self.started = False

    async def start(self, config, requires, _context, **kwargs):
        if self.started:
            raise Exception(f"provider `{self.name}` was already started; start it once")
        self.started = True
        schema = kv_capnp.Kv.schema
        # The param and result structs of every method: what a caller needs
        # to build requests and read results through the schema alone.
        types = []
        for method in schema.methods.values():
            types.append(as_schema_node(method.param_type.node))
            types.append(as_schema_node(method.result_type.node))
        exports = _context.results.init("exports", 1)
        export = exports[0]
        export.name = self.name
        export.cap = Kv()
        export.schema = as_schema_node(schema.node)
        listed = export.init("types", len(types))
        for i, node in enumerate(types):
            listed[i] = node
        log.info("started: exporting `%s` (pid %d)", self.name, os.getpid())


def as_schema_node(reader):
    """A schema node, as membrane.capnp's `schema.Node`: pycapnp describes
    schemas with its own compiled-in copy of schema.capnp, a different type
    to its schema parser, so the node is copied through its bytes."""
    return schema_capnp.Node.from_bytes(reader.as_builder().to_bytes()).__enter__()


def hello(name, protocol, network, required=()):
    message = provider_capnp.Hello.new_message()
    message.protocol = protocol
    message.implementation = f"pycapnp {capnp.version.version}"
    manifest = message.init("manifest")
    manifest.name = name
    manifest.version = "0.1.0"
    exports = manifest.init("exports", 1)
    exports[0].name = name
    exports[0].audience = "guests"
    manifest.init("requires", 0)
    keys = manifest.init("config", len(required))
    for i, key in enumerate(required):
        keys[i].key = key
        keys[i].help = "a key this provider refuses to start without (a test of the node's check)"
        keys[i].required = True
    needs = message.init("needs")
    needs.network = network
    return message.to_bytes()


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("the node closed the connection during the handshake")
        data += chunk
    return data


def read_message(sock):
    """One message in the standard stream framing, and not a byte more (the
    vat starts on the next byte)."""
    first = read_exactly(sock, 4)
    count = struct.unpack("<I", first)[0] + 1
    rest = read_exactly(sock, 4 * count + (4 if count % 2 == 0 else 0))
    sizes = struct.unpack(f"<{count}I", rest[: 4 * count])
    return first + rest + read_exactly(sock, 8 * sum(sizes))


async def main(args):
    sock = socket.socket(fileno=3)
    sock.setblocking(True)
    sock.sendall(hello(args.name, args.protocol, args.network, args.required_config))
    with provider_capnp.Welcome.from_bytes(read_message(sock)) as welcome:
        if welcome.which() == "refused":
            log.error(
                "the node (provider protocol %d) refused this provider: %s",
                welcome.protocol,
                welcome.refused,
            )
            return 2
    stream = await capnp.AsyncIoStream.create_unix_connection(sock=sock)
    server = capnp.TwoPartyServer(stream, bootstrap=Plugin(args.name))
    await server.on_disconnect()
    while HUNG_UP:
        await asyncio.sleep(3600)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", type=int, default=provider_capnp.protocolVersion)
    parser.add_argument("--name", default="kv")
    parser.add_argument("--network", action="store_true")
    parser.add_argument(
        "--required-config", action="append", default=[], metavar="KEY",
        help="declare KEY as a required config key",
    )
    parser.add_argument("--schemas", help="where ww's schemas are (default: capnp/schema)")
    args = parser.parse_args()
    if "WW_PROVIDER_PROTOCOL" not in os.environ:
        sys.exit(
            f"{args.name} is a ww provider: a node starts it and speaks to it on fd 3; run it "
            f"with `ww run --provider {sys.argv[0]} IMAGE`"
        )
    level = os.environ.get("WW_PROVIDER_LOG", "info").upper()
    logging.basicConfig(
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
        level=getattr(logging, level, logging.INFO) if level != "OFF" else logging.CRITICAL + 1,
    )
    sys.exit(asyncio.run(capnp.run(main(args))))
