"""Drives an Airlock MCP server with the OpenAI Agents SDK's MCPServerStdio, as an agent built with it would.

Only the MCP side: no model, no API key, no network. Usage:
openai_agents_client.py <tool> <json-arguments> -- <server command> [args...]
Prints one JSON object: the tool names and the text of one call's result.
"""
import asyncio
import json
import sys

from agents.mcp import MCPServerStdio


async def main() -> None:
    sep = sys.argv.index("--")
    tool, arguments = sys.argv[1], json.loads(sys.argv[2])
    # The SDK's default session timeout is 5 s; a busy machine may build components on first use.
    server = MCPServerStdio(
        name="airlock",
        params={"command": sys.argv[sep + 1], "args": sys.argv[sep + 2 :]},
        client_session_timeout_seconds=300,
    )
    await server.connect()
    try:
        tools = await server.list_tools()
        result = await server.call_tool(tool, arguments)
        print(
            json.dumps(
                {
                    "tools": sorted(t.name for t in tools),
                    "isError": result.isError,
                    "text": [c.text for c in result.content if c.type == "text"],
                }
            )
        )
    finally:
        await server.cleanup()


asyncio.run(main())
