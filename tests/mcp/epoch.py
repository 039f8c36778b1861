"""An MCP client (the Python `mcp` SDK) that follows a node's epoch: it
calls a typed tool, sends SIGHUP to the `ww run --revoke-on-hup --mcp`
it started (the epoch advances), waits for
`notifications/tools/list_changed`, then lists the tools and calls the
typed tool again. Prints what it saw as one JSON object.

Usage: epoch.py WW [ARGS...]   (the server command line)

With WW_NODE_PID set (the server is `ww shell --mcp` in front of a node
elsewhere), SIGHUP goes to that node instead.
"""

import asyncio
import json
import os
import signal
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

# How long the notification may take (a bound, not a pause: the wait ends
# as soon as it arrives).
NOTIFIED_WITHIN = 60


def texts(result):
    return [c.text for c in result.content if getattr(c, "type", "") == "text"]


def method_of(message):
    message = getattr(message, "root", message)
    return getattr(message, "method", None)


def children():
    """This process's children: the server stdio_client started."""
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The fields after the command name, which is in parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[1] == me:
            found.append(int(entry))
    return found


async def main():
    server = StdioServerParameters(command=sys.argv[1], args=sys.argv[2:], env=None)
    seen = {}
    changed = asyncio.Event()

    async def on_message(message):
        if method_of(message) == "notifications/tools/list_changed":
            changed.set()

    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write, message_handler=on_message) as session:
            init = await session.initialize()
            tools = init.capabilities.tools
            seen["list_changed"] = bool(tools and tools.list_changed)
            r = await session.call_tool("executor_echo", {"message": "before"})
            seen["before"] = {"error": r.is_error, "text": texts(r)}
            node = os.environ.get("WW_NODE_PID")
            targets = [int(node)] if node else children()
            seen["servers"] = len(targets)
            for pid in targets:
                os.kill(pid, signal.SIGHUP)
            try:
                await asyncio.wait_for(changed.wait(), NOTIFIED_WITHIN)
                seen["notified"] = True
            except asyncio.TimeoutError:
                seen["notified"] = False
            listed = await session.list_tools()
            seen["tools"] = sorted(t.name for t in listed.tools)
            r = await session.call_tool("executor_echo", {"message": "after"})
            seen["after"] = {"error": r.is_error, "text": texts(r)}
            r = await session.call_tool("caps", {})
            seen["caps"] = {"error": r.is_error, "text": texts(r)}
    print(json.dumps(seen))


asyncio.run(main())
