export { PluginHost } from './host.ts';
export { Agent } from './agent.ts';
export type { AgentOptions, LoadOptions, HostOptions, PluginState, PluginSummary, ToolCallOptions, ToolCallResult } from './types.ts';
export type { EngineProvider, EnginePreference, OpenedPlugin } from '../provider/index.ts';
export { toAnthropicTool, toOpenAITool, qualifiedName } from './catalog.ts';
export type { AnthropicTool, OpenAITool, ToolInfo } from './catalog.ts';
