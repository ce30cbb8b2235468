/** The options and results of the PluginHost API (host.ts, agent.ts). */
import type { CallLogs, CallMetrics, EngineName } from '../engines/types.ts';
import type { AirlockError } from '../errors.ts';
import type { Grants, Policy, PolicyInput } from '../grants/index.ts';
import type { EnginePreference, EngineProvider } from '../provider/index.ts';
import type { LockFile } from '../trust/lock.ts';
import type { AuditOptions } from '../audit/log.ts';
import type { HostObserver } from '../observe/observer.ts';
import type { CallUsage } from '../observe/usage.ts';

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
  /** Background loads (`load(dir, { background: true })`) opening at once, across the host's agents (default 4); the others wait their turn. */
  backgroundOpens?: number;
  /**
   * A lock file (path, read once, bounded) or its contents: every plugin any agent loads must be in it with the
   * same digest and tools, or its load fails with `lock-mismatch` before anything is built (src/trust/lock.ts).
   */
  lock?: string | LockFile;
  /** A hash-chained JSON-lines record of loads, calls, egress decisions and grant changes (src/audit): to a file, stderr or a callback. */
  audit?: AuditOptions;
  /** Others watching the host (loads, calls, egress decisions, grant changes); see src/observe/observer.ts. */
  observers?: HostObserver[];
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
  /** Abandons the load (a component or image build can take a while). With `background`, only the manifest read. */
  signal?: AbortSignal;
  /**
   * Returns once the manifest is read and its grants checked: the tools are
   * listed at once, the engine opens in the background (HostOptions.backgroundOpens
   * at a time), and a call to one of them waits for it. A failed open leaves the
   * tools listed, answering its error (see PluginSummary.state).
   */
  background?: boolean;
  /** With `background`: called once the open has settled (state `ready` or `failed`). */
  onSettled?: (plugin: PluginSummary) => void;
}

export interface ToolCallOptions {
  signal?: AbortSignal;
  /** Milliseconds; can only shorten the plugin's granted timeout. */
  timeout?: number;
  /**
   * While the call waits for its plugin to open in the background (LoadOptions.background): where the
   * open is, one line a step (a component or image build's steps); the latest at once, then each new one.
   */
  onProgress?: (step: string) => void;
}

export interface ToolCallResult {
  /** The parsed result. */
  value: unknown;
  /** The result as the plugin returned it (JSON text). */
  output: string;
  logs: CallLogs;
  metrics: CallMetrics & { /** Time waiting for the agent's own concurrency limit. */ agentQueueMs: number; totalMs: number };
  /** What the call used (a failed call that reached the engine carries it in `error.details.usage`). */
  usage: CallUsage;
}

/** `loading`: a background open is under way; `failed`: it failed, and the tools answer its error. */
export type PluginState = 'loading' | 'ready' | 'failed';

export interface PluginSummary {
  name: string;
  version: string;
  dir: string;
  state: PluginState;
  /** The engine, once ready. */
  engine?: EngineName;
  /** Why that engine was chosen; while loading or after a failure, what is happening or went wrong. */
  reason: string;
  /** Why the open failed (state `failed`). */
  error?: AirlockError;
  tools: string[];
  grants: Grants;
}
