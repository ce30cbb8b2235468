/**
 * Airlock's public API (the package's main entry).
 *
 *   import { PluginHost } from 'airlock';
 *   const host = new PluginHost({ policy: 'policy.yaml' });
 *   await host.load('./plugins/weather');
 *   const tools = host.openAITools();            // or anthropicTools(), tools()
 *   const { value } = await host.call('weather_forecast', { city: 'Oslo' }, { signal });
 *   await host.close();
 *
 * Everything else (engines, capabilities, the selector) is internal and may change.
 */
export { PluginHost, Agent, toAnthropicTool, toOpenAITool, qualifiedName } from './host/index.ts';
export type {
  AgentOptions,
  AnthropicTool,
  EnginePreference,
  EngineProvider,
  HostOptions,
  LoadOptions,
  OpenAITool,
  OpenedPlugin,
  PluginState,
  PluginSummary,
  ToolCallOptions,
  ToolCallResult,
  ToolInfo,
  AuditOptions,
  CallUsage,
  GrantChange,
  HostObserver,
  Revocation,
} from './host/index.ts';
export { verifyAuditLog } from './audit/verify.ts';
export { defaultEngineProvider } from './provider/index.ts';
export type { ProviderEvent, ProviderOptions } from './provider/index.ts';
export { createMcpServer, serveHttp, serveStdio } from './mcp/index.ts';
export type { HttpOptions, RunningHttpServer, RunningServer, ServerInfo, ToolSource } from './mcp/index.ts';
export { AirlockError, ERROR_CODES, isAirlockError, formatProblem } from './errors.ts';
export type { ErrorCode, Problem, SerializedError } from './errors.ts';
export { loadPlugin, validatePlugin, manifestJsonSchema, MAX_QUALIFIED_TOOL_NAME } from './manifest/index.ts';
export type { LoadedManifest, Manifest, ManifestInput, Tool, ValidationResult } from './manifest/index.ts';
export { computeGrants, defaultPolicy, loadPolicy, policyFromObject } from './grants/index.ts';
export type { Grants, Policy, PolicyInput } from './grants/index.ts';
export type { CallLogs, CallMetrics, CallOptions, CallResult, EngineName, EnginePlugin } from './engines/types.ts';
export { ENGINE_NAMES } from './engines/types.ts';
export { initPlugin, TEMPLATES } from './init/index.ts';
export type { InitOptions, InitResult, TemplateName } from './init/index.ts';
