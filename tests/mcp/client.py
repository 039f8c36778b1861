"""An MCP client from outside the project (the Python `mcp` SDK) that drives
`ww run ... --mcp` over stdio and prints what it saw as one JSON object.

Usage: client.py WW [ARGS...]   (the server command line)
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError


def texts(result):
    return [c.text for c in result.content if getattr(c, "type", "") == "text"]


async def main():
    server = StdioServerParameters(command=sys.argv[1], args=sys.argv[2:], env=None)
    seen = {}
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            seen["tools"] = sorted(t.name for t in tools.tools)
            schemas = {t.name: t.input_schema for t in tools.tools}
            seen["echo_schema"] = schemas.get("executor_echo")
            seen["hash_schema"] = schemas.get("routing_hash")
            r = await session.call_tool("eval", {"source": "(host id)"})
            seen["host_id"] = {"error": r.is_error, "text": texts(r)}
            r = await session.call_tool("eval", {"source": '(println "out") (+ 40 2)'})
            seen["arith"] = {"error": r.is_error, "text": texts(r)}
            # Several forms: each one's result, stopping at the first error.
            r = await session.call_tool("eval", {"source": "(+ 1 1) (nope) (+ 2 2) (+ 3 3)"})
            seen["forms_error"] = {"error": r.is_error, "text": texts(r)}
            r = await session.call_tool("eval", {"source": "(nope)"})
            seen["unbound"] = {"error": r.is_error, "text": texts(r)}
            r = await session.call_tool("call", {"cap": "executor", "method": "echo", "args": '{:message "hi"}'})
            seen["call"] = {"error": r.is_error, "text": texts(r)}
            # Tools typed from the schema: JSON arguments by parameter type.
            r = await session.call_tool("executor_echo", {"message": "typed"})
            seen["typed_echo"] = {"error": r.is_error, "text": texts(r)}
            r = await session.call_tool("executor_echo", {"message": 42})
            seen["typed_mistyped"] = {"error": r.is_error, "text": texts(r)}
            r = await session.call_tool("executor_echo", {})
            seen["typed_missing"] = {"error": r.is_error, "text": texts(r)}
            r = await session.call_tool("routing_hash", {"data": "68656c6c6f"})
            seen["typed_hash"] = {"error": r.is_error, "text": texts(r)}
            r = await session.call_tool("caps", {})
            seen["caps"] = {"error": r.is_error, "text": texts(r)}
            try:
                await session.call_tool("teleport", {})
                seen["unknown_tool"] = "no error"
            except MCPError as e:
                seen["unknown_tool"] = str(e)
            # The session still works after the errors.
            r = await session.call_tool("eval", {"source": "(* 6 7)"})
            seen["after"] = {"error": r.is_error, "text": texts(r)}
    print(json.dumps(seen))


asyncio.run(main())
