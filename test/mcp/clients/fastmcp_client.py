"""Drives an Airlock MCP server with fastmcp's Client over its stdio transport, as a fastmcp user would.

Usage: fastmcp_client.py <tool> <json-arguments> -- <server command> [args...]
Prints one JSON object: the server's name, the tool names and the text of one call's result.
"""
import asyncio
import json
import sys

from fastmcp import Client
from fastmcp.client.transports import StdioTransport


async def main() -> None:
    sep = sys.argv.index("--")
    tool, arguments = sys.argv[1], json.loads(sys.argv[2])
    transport = StdioTransport(command=sys.argv[sep + 1], args=sys.argv[sep + 2 :])
    # Generous bounds: a busy machine may build components on first use.
    async with Client(transport, timeout=300, init_timeout=300) as client:
        tools = await client.list_tools()
        # fastmcp raises ToolError when the result is an error, so reaching the print means isError was false.
        result = await client.call_tool(tool, arguments)
        print(
            json.dumps(
                {
                    "server": client.initialize_result.serverInfo.name,
                    "tools": sorted(t.name for t in tools),
                    "isError": result.is_error,
                    "text": [c.text for c in result.content if c.type == "text"],
                }
            )
        )


asyncio.run(main())
