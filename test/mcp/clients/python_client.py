"""Drives an Airlock MCP server with the official MCP Python SDK, as a user's client would.

Usage: python_client.py <tool> <json-arguments> (-- <server command> [args...] | --url <url> --token <token>)
Prints one JSON object: the server's name, every tool's schema problems under a
JSON Schema 2020-12 validator (the MCP default dialect), and the result of one
call (the SDK checks structured output against the tool's outputSchema itself).
"""
import asyncio
import json

import anyio

from jsonschema import Draft202012Validator
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client

from target import target


printed = False


async def main() -> None:
    global printed
    t = target()
    tool, arguments = t.tool, t.arguments
    connection = (
        streamablehttp_client(t.url, headers=t.headers)
        if t.http
        else stdio_client(StdioServerParameters(command=t.command, args=t.args))
    )
    async with connection as (read, write, *_):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            tools = (await session.list_tools()).tools
            problems = []
            for t in tools:
                for kind, schema in (("input", t.inputSchema), ("output", t.outputSchema)):
                    if schema is None:
                        continue
                    for err in Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema):
                        problems.append(f"{t.name} {kind}: {err.message}")
            result = await session.call_tool(tool, arguments)
            print(
                json.dumps(
                    {
                        "server": init.serverInfo.name,
                        "tools": sorted(t.name for t in tools),
                        "problems": problems,
                        "isError": result.isError,
                        "structured": result.structuredContent,
                        "text": [c.text for c in result.content if c.type == "text"],
                    }
                )
            )
            printed = True


try:
    asyncio.run(main())
except BaseExceptionGroup as group:
    # modelcontextprotocol/python-sdk#1960: stdio_client's teardown can fail with BrokenResourceError when the
    # server sends a message (a tools/list_changed as its plugins finish loading) while the client closes. Only
    # that, after the result was printed, is not this test's failure.
    _, rest = group.split(anyio.BrokenResourceError)
    if rest is not None or not printed:
        raise

