"""Drives an Airlock MCP server with fastmcp's Client over its stdio or streamable HTTP transport, as a fastmcp user would.

Usage: fastmcp_client.py <tool> <json-arguments> (-- <server command> [args...] | --url <url> --token <token>)
Prints one JSON object: the server's name, the tool names and the text of one call's result.
"""
import asyncio
import json

from fastmcp import Client
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport

from target import target


async def main() -> None:
    t = target()
    tool, arguments = t.tool, t.arguments
    transport = StreamableHttpTransport(t.url, headers=t.headers) if t.http else StdioTransport(command=t.command, args=t.args)
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
