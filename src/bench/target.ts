/**
 * What the harness measures: a target is an engine or a baseline (what a
 * user would do without Airlock). Each one opens a plugin into a session
 * with live instances and calls tools on it; the harness does the timing,
 * so every target is measured by the same code.
 */
import type { EngineName } from '../engines/registry.ts';
import { AirlockError } from '../errors.ts';
import { computeGrants, defaultPolicy } from '../grants/index.ts';
import type { Grants } from '../grants/types.ts';
import { loadPlugin } from '../manifest/index.ts';
import type { BenchPlugin, BenchPluginName } from './plugins.ts';

export const TARGET_NAMES = [
  'in-thread',
  'worker',
  'wasmtime',
  'wasmtime-run',
  'docker-warm',
  'docker-per-call',
  'docker-run',
  'kubernetes-warm',
  'extism',
  'extism-worker',
] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

/** How much one measure may take, per round: it stops at whichever comes first (but see `min`). */
export interface Budget {
  samples: number;
  ms: number;
}

export interface TargetBudgets {
  /** Warm-up calls before latency samples (a warm instance, not a first call). */
  warmup: number;
  latency: Budget;
  /** Per concurrency level: at most this many calls or ms (at least one call per lane). */
  throughput: Budget;
  /** Instances a throughput session gets: pooled engines stay at a policy-sized pool, per-call ones follow the concurrency. */
  maxInstances: number;
}

/** What a target opens: the plugin, its grants (default policy) and the component the wasm targets run. */
export interface PluginSetup {
  plugin: BenchPlugin;
  grants: Grants;
  /** The built component (absent for a Docker-only setup). */
  component: string | undefined;
}

export interface OpenOptions {
  /** Live instances (workers, containers, in-thread instances); for per-call targets, calls at once. */
  instances: number;
  signal: AbortSignal;
  /** An empty cache folder: the load builds its transpiled / compiled artifacts again (cold start without caches). */
  cacheRoot?: string;
  /**
   * The session will be asked memoryPerInstance(): an in-process target reads the process's memory before
   * opening (two full collections), which a timed open (a cold start) must not include.
   */
  memory?: boolean;
}

export interface Session {
  /** One call; resolves with the tool's result as JSON text, rejects on any failure. */
  call(tool: string, input: string, signal: AbortSignal): Promise<string>;
  /**
   * Bytes one live instance holds, measured now with every instance warm; absent for targets that
   * keep no instance between calls (a process or container per call); undefined from an in-process
   * target's session opened without `memory`.
   */
  memoryPerInstance?(): Promise<number | undefined>;
  close(): Promise<void>;
}

export interface Target {
  name: TargetName;
  label: string;
  kind: 'engine' | 'baseline';
  /** The registry engine an engine target measures (test/bench/targets.test.ts: every engine has one); baselines have none. */
  engine?: EngineName;
  /**
   * component: runs every plugin's component; source: runs node/python plugins from source in Docker;
   * module: runs a core module of its own built from a plugin's code (a baseline outside Airlock: no cold start without caches).
   */
  form: 'component' | 'source' | 'module';
  /** Only these plugins (a baseline built from one plugin's code); absent: every plugin its form runs. */
  plugins?: readonly BenchPluginName[];
  budgets: TargetBudgets;
  /** Why this target cannot run here, or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  open(setup: PluginSetup, options: OpenOptions): Promise<Session>;
}

/** A budget multiplied by the run's scale (at least one sample). */
export function scaled(b: Budget, scale: number): Budget {
  return { samples: Math.max(1, Math.round(b.samples * scale)), ms: b.ms * scale };
}

/** The grants of the plugin in `dir` under the default policy. */
export function grantsOf(dir: string): Grants {
  return computeGrants(loadPlugin(dir), defaultPolicy());
}

/** Grants for a session of `instances` (queue large enough for every lane's call). */
export function withInstances(grants: Grants, instances: number): Grants {
  return { ...grants, resources: { ...grants.resources, concurrency: instances, queue: Math.max(grants.resources.queue, 4096) } };
}

/** The component a wasm target runs (every bench plugin has one). */
export function componentOf(setup: PluginSetup): string {
  if (setup.component === undefined) throw new AirlockError('internal', `${setup.plugin.name} has no component for a wasm target`);
  return setup.component;
}
