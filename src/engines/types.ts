import type { EngineName } from './registry.ts';

export { ENGINE_NAMES, type EngineName } from './registry.ts';

export interface CallOptions {
  /** Aborts the call: a queued call is dequeued, a running one has its instance killed and replaced. */
  signal?: AbortSignal;
  /** Overrides grants.resources.timeoutMs downwards (never upwards). */
  timeoutMs?: number;
}

export interface CallLogs {
  /** What the plugin printed during this call, cut at grants.resources.logBytes. */
  stdout: string;
  stderr: string;
  /** True when something was cut. */
  truncated?: boolean;
}

export interface CallMetrics {
  engine: EngineName;
  /** From the call entering the engine to its result. */
  durationMs: number;
  /** Of which waiting for a free instance. */
  queueMs: number;
}

export interface CallResult {
  /** The tool's result as JSON text. */
  output: string;
  logs: CallLogs;
  metrics: CallMetrics;
}

/** One plugin loaded into an engine, with warm instances. */
export interface EnginePlugin {
  call(tool: string, input: string, options?: CallOptions): Promise<CallResult>;
  /** Drains in-flight calls, then stops instances. */
  close(): Promise<void>;
}
