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
 *
 * Importing this loads the host and what every load needs; the MCP front ends
 * load on their first use (engines, builds and
 * Docker load on demand anyway), so `import('airlock')` stays small.
 */
import type { HttpOptions, RunningHttpServer, RunningServer, ServerInfo, ToolSource } from './mcp/index.ts';

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
export type { HttpOptions, RunningHttpServer, RunningServer, ServerInfo, ToolSource } from './mcp/index.ts';

/** An MCP server over `source`'s tools, not yet connected (the MCP SDK loads on first use, hence the Promise). */
export async function createMcpServer(source: ToolSource, info?: ServerInfo): Promise<ReturnType<typeof import('./mcp/index.ts').createMcpServer>> {
  return (await import('./mcp/index.ts')).createMcpServer(source, info);
}

/** Serves `source`'s tools over MCP on this process's stdio. */
export async function serveStdio(source: ToolSource, info?: ServerInfo): Promise<RunningServer> {
  return (await import('./mcp/index.ts')).serveStdio(source, info);
}

/** Serves `source`'s tools over MCP streamable HTTP (loopback and a bearer token by default). */
export async function serveHttp(source: ToolSource, options?: HttpOptions): Promise<RunningHttpServer> {
  return (await import('./mcp/index.ts')).serveHttp(source, options);
}
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
