import type { FileUsage, RefusedRequest } from '../capabilities/index.ts';
import type { EngineName } from './registry.ts';

export type { FileUsage, RefusedRequest } from '../capabilities/index.ts';

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

/**
 * What an engine measured of one call (the host adds wall time, bytes in and
 * out, and network decisions). A figure the engine cannot measure is absent.
 */
export interface EngineUsage {
  /** CPU time (user + system), milliseconds. */
  cpuMs?: number;
  /**
   * Peak memory of the instance that served the call, bytes: its high-water mark since it
   * started (with per-call isolation, the call's own). Worker engine: linear memory; Docker: the container's.
   */
  memoryPeakBytes?: number;
  files?: FileUsage;
  /** Requests the engine refused itself, before any proxy saw them (the worker engine checks the allowlist in the guest's thread). */
  networkRefused?: RefusedRequest[];
}

export interface CallResult {
  /** The tool's result as JSON text. */
  output: string;
  logs: CallLogs;
  metrics: CallMetrics;
  /** What the engine measured (also in a failed call's error, `details.usage`). */
  usage?: EngineUsage;
}

/** One plugin loaded into an engine, with warm instances. */
export interface EnginePlugin {
  call(tool: string, input: string, options?: CallOptions): Promise<CallResult>;
  /**
   * Stops every idle instance now, as grants.idleMs does after the idle
   * period (what they kept in memory is lost); the next call starts one
   * again. Resolves with how many were stopped. Engines without warm
   * instances to release leave it out.
   */
  park?(): Promise<number>;
  /** Drains in-flight calls, then stops instances. */
  close(): Promise<void>;
}
