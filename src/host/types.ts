/** The options and results of the PluginHost API (host.ts, agent.ts). */
import type { CallLogs, CallMetrics, EngineName } from '../engines/types.ts';
import type { Grants, Policy, PolicyInput } from '../grants/index.ts';
import type { EnginePreference, EngineProvider } from '../provider/index.ts';

export interface HostOptions {
  /** The host policy for plugins loaded without an agent-specific one: an object, a checked Policy, or a YAML file path. */
  policy?: Policy | PolicyInput | string;
  /** Engine choice for every plugin (`auto` lets the selector decide). */
  engine?: EnginePreference;
  /** Per-plugin engine choice, by plugin name. */
  engines?: Record<string, EnginePreference>;
  /** Where granted env values come from (default: process.env). */
  env?: Record<string, string | undefined>;
  /** The engines. Default: the real ones (see `defaultEngineProvider`). */
  provider?: EngineProvider;
  /**
   * Calls in flight per agent (default 64) and waiting per agent (default
   * 1024) before `overloaded`. Besides this, an agent gets an equal share of
   * the instances of a pool it shares with other agents (see fair-share.ts).
   */
  agentConcurrency?: number;
  agentQueue?: number;
}

export interface AgentOptions {
  /** Plugin folders this agent loads. */
  plugins?: string[];
  /** This agent's policy (default: the host's). */
  policy?: Policy | PolicyInput | string;
  /** Calls in flight for this agent (default: the host's agentConcurrency). */
  concurrency?: number;
  /** Calls waiting for this agent before `overloaded` (default: the host's agentQueue). */
  queue?: number;
  /** Abandons loading the plugins. */
  signal?: AbortSignal;
}

export interface LoadOptions {
  /** Abandons the load (a component or image build can take a while). */
  signal?: AbortSignal;
}

export interface ToolCallOptions {
  signal?: AbortSignal;
  /** Milliseconds; can only shorten the plugin's granted timeout. */
  timeout?: number;
}

export interface ToolCallResult {
  /** The parsed result. */
  value: unknown;
  /** The result as the plugin returned it (JSON text). */
  output: string;
  logs: CallLogs;
  metrics: CallMetrics & { /** Time waiting for the agent's own concurrency limit. */ agentQueueMs: number; totalMs: number };
}

export interface PluginSummary {
  name: string;
  version: string;
  dir: string;
  engine: EngineName;
  reason: string;
  tools: string[];
  grants: Grants;
}
