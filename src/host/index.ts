export { PluginHost, Agent } from './plugin-host.ts';
export type { AgentOptions, LoadOptions, EngineProvider, EnginePreference, HostOptions, OpenedPlugin, PluginSummary, ToolCallOptions, ToolCallResult } from './plugin-host.ts';
export { toAnthropicTool, toOpenAITool, qualifiedName } from './catalog.ts';
export type { AnthropicTool, OpenAITool, ToolInfo } from './catalog.ts';
