"""Drives an Airlock MCP server with the OpenAI Agents SDK's MCPServerStdio or MCPServerStreamableHttp, as an agent built with it would.

Only the MCP side: no model, no API key, no network. Usage:
openai_agents_client.py <tool> <json-arguments> (-- <server command> [args...] | --url <url> --token <token>)
Prints one JSON object: the tool names and the text of one call's result.
"""
import asyncio
import json

from agents.mcp import MCPServerStdio, MCPServerStreamableHttp

from target import target


async def main() -> None:
    t = target()
    tool, arguments = t.tool, t.arguments
    # The SDK's default session timeout is 5 s; a busy machine may build components on first use.
    server = (
        MCPServerStreamableHttp(
            name="airlock", params={"url": t.url, "headers": t.headers}, client_session_timeout_seconds=300
        )
        if t.http
        else MCPServerStdio(
            name="airlock", params={"command": t.command, "args": t.args}, client_session_timeout_seconds=300
        )
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
