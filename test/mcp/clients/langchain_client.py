"""Drives an Airlock MCP server with langchain-mcp-adapters, as a LangChain/LangGraph agent would.

get_tools() turns every tool's JSON Schema into a LangChain tool (so a schema it cannot convert fails here),
and ainvoke() runs one of them. Usage: langchain_client.py <tool> <json-arguments> (-- <server command> [args...] | --url <url> --token <token>)
Prints one JSON object: the tool names, the called tool's argument names and the text of its result.
"""
import asyncio
import json

from langchain_mcp_adapters.client import MultiServerMCPClient

from target import target


async def main() -> None:
    t = target()
    name, arguments = t.tool, t.arguments
    server = (
        {"url": t.url, "headers": t.headers, "transport": "streamable_http"}
        if t.http
        else {"command": t.command, "args": t.args, "transport": "stdio"}
    )
    client = MultiServerMCPClient({"airlock": server})
    tools = await client.get_tools()
    tool = next(t for t in tools if t.name == name)
    # A tool-error would raise here (ToolException); the result is the call's content.
    output = await tool.ainvoke(arguments)
    blocks = output if isinstance(output, list) else [output]
    text = [b if isinstance(b, str) else b.get("text") for b in blocks]
    print(json.dumps({"tools": sorted(t.name for t in tools), "args": sorted(tool.args), "text": text}))


asyncio.run(main())
