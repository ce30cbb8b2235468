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
 * Importing this loads the host's own code only: what a function here needs
 * beyond it loads on its first call (the manifest and policy schemas: zod,
 * yaml, Ajv; engines, builds, Docker and the MCP front ends), so
 * `import('airlock')` stays small (issue 21; test/host/lazy-import.test.ts
 * names what it must not load). The synchronous functions below load theirs synchronously
 * (src/lazy.ts).
 */
import type { LoadedManifest, ValidationResult } from './manifest/load.ts';
import type { Grants, Policy, PolicyInput } from './grants/index.ts';
import type { GrantOptions } from './grants/grant.ts';
import type { ProviderOptions } from './provider/index.ts';
import type { HttpOptions, RunningHttpServer, RunningServer, ServerInfo, ToolSource } from './mcp/index.ts';
import type { InitOptions, InitResult } from './init/index.ts';
import { lazyModule } from './lazy.ts';

const manifests = lazyModule<typeof import('./manifest/load.ts')>(import.meta.url, './manifest/load');
const policies = lazyModule<typeof import('./grants/policy.ts')>(import.meta.url, './grants/policy');
const defaults = lazyModule<typeof import('./grants/default-policy.ts')>(import.meta.url, './grants/default-policy');
const grants = lazyModule<typeof import('./grants/grant.ts')>(import.meta.url, './grants/grant');
const providers = lazyModule<typeof import('./provider/index.ts')>(import.meta.url, './provider/index');
const jsonSchema = lazyModule<typeof import('./manifest/json-schema.ts')>(import.meta.url, './manifest/json-schema');

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

/** Checks an audit log: names each line altered or removed (node:crypto loads on first use, not with Airlock). */
export async function verifyAuditLog(file: string): Promise<import('./audit/verify.ts').AuditVerdict> {
  return (await import('./audit/verify.ts')).verifyAuditLog(file);
}

/** The engines a PluginHost uses by default: probed on first need, chosen per plugin by the selector. */
export function defaultEngineProvider(options?: ProviderOptions): ReturnType<typeof import('./provider/index.ts').defaultEngineProvider> {
  return providers().defaultEngineProvider(options);
}
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
export { MAX_QUALIFIED_TOOL_NAME } from './manifest/names.ts';
export type { LoadedManifest, Manifest, ManifestInput, Tool, ValidationResult } from './manifest/index.ts';
export type { Grants, Policy, PolicyInput } from './grants/index.ts';

/** Reads and checks a plugin folder (or its plugin.yaml) on this thread; throws `invalid-manifest` with every problem. */
export function loadPlugin(dirOrFile: string): LoadedManifest {
  return manifests().loadPlugin(dirOrFile);
}

/** As loadPlugin, with the problems as data. */
export function validatePlugin(dirOrFile: string): ValidationResult {
  return manifests().validatePlugin(dirOrFile);
}

/** The JSON Schema of plugin.yaml, for editors. */
export function manifestJsonSchema(): Record<string, unknown> {
  return jsonSchema().manifestJsonSchema();
}

/** Manifest request ∩ host policy: the grants, or `permission-denied` listing each refusal. */
export function computeGrants(plugin: LoadedManifest, policy: Policy, options?: GrantOptions): Grants {
  return grants().computeGrants(plugin, policy, options);
}

/** The policy that grants nothing beyond safe defaults. */
export function defaultPolicy(): Policy {
  return defaults().defaultPolicy();
}

/** Reads a host policy file; throws `invalid-policy` with every problem. */
export function loadPolicy(file: string): Policy {
  return policies().loadPolicy(file);
}

/** A host policy written in code. */
export function policyFromObject(input: PolicyInput, baseDir?: string, origin?: string): Policy {
  return policies().policyFromObject(input, baseDir, origin);
}
export type { CallLogs, CallMetrics, CallOptions, CallResult, EngineName, EnginePlugin } from './engines/types.ts';
export { ENGINE_NAMES } from './engines/types.ts';
export { TEMPLATES } from './init/templates.ts';
export type { InitOptions, InitResult, TemplateName } from './init/index.ts';

/** Creates a plugin folder from a template (`airlock init`). */
export async function initPlugin(target: string, options?: InitOptions): Promise<InitResult> {
  return (await import('./init/index.ts')).initPlugin(target, options);
}
