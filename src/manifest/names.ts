/** Longest MCP/OpenAI/Anthropic tool name (`plugin_tool`). */
export const MAX_QUALIFIED_TOOL_NAME = 64;
