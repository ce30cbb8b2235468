"""Drives an Airlock MCP server with langchain-mcp-adapters, as a LangChain/LangGraph agent would.

get_tools() turns every tool's JSON Schema into a LangChain tool (so a schema it cannot convert fails here),
and ainvoke() runs one of them. Usage: langchain_client.py <tool> <json-arguments> -- <server command> [args...]
Prints one JSON object: the tool names, the called tool's argument names and the text of its result.
"""
import asyncio
import json
import sys

from langchain_mcp_adapters.client import MultiServerMCPClient


async def main() -> None:
    sep = sys.argv.index("--")
    name, arguments = sys.argv[1], json.loads(sys.argv[2])
    client = MultiServerMCPClient(
        {"airlock": {"command": sys.argv[sep + 1], "args": sys.argv[sep + 2 :], "transport": "stdio"}}
    )
    tools = await client.get_tools()
    tool = next(t for t in tools if t.name == name)
    # A tool-error would raise here (ToolException); the result is the call's content.
    output = await tool.ainvoke(arguments)
    blocks = output if isinstance(output, list) else [output]
    text = [b if isinstance(b, str) else b.get("text") for b in blocks]
    print(json.dumps({"tools": sorted(t.name for t in tools), "args": sorted(tool.args), "text": text}))


asyncio.run(main())
