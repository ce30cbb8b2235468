/**
 * The runtime selector: which engine runs a plugin, and why. A pure
 * function of the manifest's facts, the grants, the host config and the
 * engine probes, so every rule is a row in a table test.
 *
 * Rules:
 * - `wasm` plugins run on the worker engine (lowest latency), or under the
 *   wasmtime CLI when configured (`engine: wasmtime`). wasmtime refuses grants
 *   its CLI cannot express exactly (read-only directories, network
 *   allowlists); the plugin then falls back to the worker engine, with the
 *   refusal as the reason.
 * - `node` and `python` plugins run in Docker.
 * - A node or python plugin that also ships a component (manifest `wasm:`)
 *   runs that component first (worker engine, or wasmtime when configured)
 *   and falls back to Docker when the component is missing or invalid or no
 *   wasm engine can run it.
 * - A forced engine (host config, global or per plugin) that is not
 *   installed is an `engine-unavailable` error with its install hint, never
 *   a silent switch.
 */
import type { EngineName } from '../engines/types.ts';
import { wasmtimeRefusals } from '../engines/wasmtime/flags.ts';
import { AirlockError } from '../errors.ts';
import type { Grants } from '../grants/types.ts';

export type EngineChoice = 'auto' | EngineName;

export interface EngineAvailability {
  available: boolean;
  version?: string;
  /** Why not, when unavailable. */
  reason?: string;
  /** How to install it, when unavailable. */
  installHint?: string;
}

export interface ComponentStatus {
  /** `ok`: exists and looks like a component; `missing`: no file; `invalid`: not a usable component. */
  status: 'ok' | 'missing' | 'invalid';
  reason?: string;
}

export interface SelectInput {
  /** Carries the plugin's name, runtime, entry and `wasm` (the component beside a node/python plugin), and the grants wasmtime must express. */
  grants: Grants;
  /**
   * What the caller found at the component path (grants.plugin.entry for
   * wasm plugins, grants.plugin.wasm for node/python). Absent: assumed ok.
   */
  component?: ComponentStatus;
  config?: {
    /** Host-wide choice (default `auto`). */
    engine?: EngineChoice;
    /** Per plugin, by name; wins over `engine`. */
    plugins?: Record<string, EngineChoice | undefined>;
  };
  probes: Record<EngineName, EngineAvailability>;
}

export interface EngineStep {
  engine: EngineName;
  reason: string;
}

export interface Selection {
  engine: EngineName;
  /** The component the wasm engines run; absent for docker. */
  component?: string;
  /** Why this engine, in one sentence. */
  reason: string;
  /** Where the choice came from: the host config (global or per plugin) or the default. */
  choice: EngineChoice;
  choiceSource: 'plugin config' | 'host config' | 'default';
  /**
   * Engines to try next, in order, if `engine` fails to load the plugin
   * (e.g. the component turns out invalid when it is compiled).
   */
  fallbacks: EngineStep[];
  /** Engines considered and passed over, each with why. */
  skipped: EngineStep[];
}

function unavailable(engine: EngineName, probes: SelectInput['probes'], why: string): AirlockError {
  const p = probes[engine];
  const detail = p.reason === undefined ? '' : `: ${p.reason}`;
  const hint = p.installHint === undefined ? '' : `; ${p.installHint}`;
  return new AirlockError('engine-unavailable', `${why}, but the ${engine} engine is unavailable${detail}${hint}`, {
    details: { engine, ...(p.installHint === undefined ? {} : { installHint: p.installHint }) },
  });
}

const missingWhy = (c: ComponentStatus | undefined, path: string): string =>
  c?.status === 'missing' ? `component ${path} is missing${c.reason === undefined ? '' : ` (${c.reason})`}` : `component ${path} is invalid${c?.reason === undefined ? '' : `: ${c.reason}`}`;

export function selectEngine(input: SelectInput): Selection {
  const { grants, probes } = input;
  const name = grants.plugin.name;
  const perPlugin = input.config?.plugins?.[name];
  const global = input.config?.engine;
  const choice: EngineChoice = perPlugin ?? global ?? 'auto';
  const choiceSource: Selection['choiceSource'] = perPlugin !== undefined ? 'plugin config' : global !== undefined ? 'host config' : 'default';
  const forcedBy = `plugin ${name} is configured with engine: ${choice} (${choiceSource})`;
  const skipped: EngineStep[] = [];
  const base = { choice, choiceSource, skipped };

  const isWasm = grants.plugin.runtime === 'wasm';
  const componentPath = isWasm ? grants.plugin.entry : grants.plugin.wasm;
  const componentOk = componentPath !== undefined && (input.component === undefined || input.component.status === 'ok');

  /**
   * The wasm engine to run the component on, given the choice, or undefined
   * with the reasons in `skipped`. Throws when a forced engine is not installed.
   */
  const pickWasmEngine = (): EngineStep | undefined => {
    if (choice === 'wasmtime') {
      if (!probes.wasmtime.available) throw unavailable('wasmtime', probes, forcedBy);
      const refusals = wasmtimeRefusals(grants);
      if (refusals.length === 0) return { engine: 'wasmtime', reason: `${forcedBy}` };
      // The CLI cannot express a grant: never widen it, run on the worker engine instead.
      skipped.push({ engine: 'wasmtime', reason: `refuses this plugin: ${refusals.join('; ')}` });
      if (probes.wasm.available) return { engine: 'wasm', reason: `wasmtime was configured but refuses this plugin's grants (${refusals.join('; ')}), so the worker engine runs it` };
      skipped.push({ engine: 'wasm', reason: probes.wasm.reason ?? 'unavailable' });
      return undefined;
    }
    if (choice === 'wasm') {
      if (!probes.wasm.available) throw unavailable('wasm', probes, forcedBy);
      return { engine: 'wasm', reason: forcedBy };
    }
    // auto: the worker engine first (lowest latency), then wasmtime.
    if (probes.wasm.available) return { engine: 'wasm', reason: 'the worker engine has the lowest latency for components' };
    skipped.push({ engine: 'wasm', reason: probes.wasm.reason ?? 'unavailable' });
    if (probes.wasmtime.available) {
      const refusals = wasmtimeRefusals(grants);
      if (refusals.length === 0) return { engine: 'wasmtime', reason: 'the worker engine is unavailable; wasmtime runs the component' };
      skipped.push({ engine: 'wasmtime', reason: `refuses this plugin: ${refusals.join('; ')}` });
    } else {
      skipped.push({ engine: 'wasmtime', reason: probes.wasmtime.reason ?? 'unavailable' });
    }
    return undefined;
  };

  if (isWasm) {
    if (choice === 'docker') {
      throw new AirlockError('engine-unavailable', `${forcedBy}, but Docker runs node and python plugins; ${name} is a wasm plugin (use engine: auto, wasm or wasmtime)`, {
        details: { engine: 'docker' },
      });
    }
    const step = pickWasmEngine();
    if (step === undefined) {
      throw new AirlockError('engine-unavailable', `no engine can run wasm plugin ${name}: ${skipped.map((s) => `${s.engine} ${s.reason}`).join('; ')}`, {
        details: { skipped },
      });
    }
    // wasmtime may still refuse at load what only the component reveals (a wasi:http import); the worker engine then runs it.
    const fallbacks: EngineStep[] = [];
    if (step.engine === 'wasmtime' && probes.wasm.available) {
      fallbacks.push({ engine: 'wasm', reason: 'if wasmtime refuses the component when loading it (engine-unavailable)' });
    }
    return { ...base, engine: step.engine, component: grants.plugin.entry, reason: step.reason, fallbacks };
  }

  // node / python
  const dockerStep = (reason: string): Selection => {
    if (!probes.docker.available) {
      throw unavailable('docker', probes, `${grants.plugin.runtime} plugin ${name} needs Docker (${reason})`);
    }
    return { ...base, engine: 'docker', reason, fallbacks: [] };
  };

  if (choice === 'docker') return dockerStep(forcedBy);

  if (componentPath === undefined) {
    if (choice === 'wasm' || choice === 'wasmtime') {
      throw new AirlockError('engine-unavailable', `${forcedBy}, but ${name} is a ${grants.plugin.runtime} plugin without a component (add a \`wasm:\` entry to plugin.yaml, or use engine: docker)`, {
        details: { engine: choice },
      });
    }
    return dockerStep(`${grants.plugin.runtime} plugins run in Docker`);
  }

  if (!componentOk) {
    const why = missingWhy(input.component, componentPath);
    if (choice === 'wasm' || choice === 'wasmtime') {
      throw new AirlockError('engine-unavailable', `${forcedBy}, but ${why}`, { details: { engine: choice } });
    }
    skipped.push({ engine: 'wasm', reason: why });
    return dockerStep(`${why}, so the ${grants.plugin.runtime} entry runs in Docker`);
  }

  const step = pickWasmEngine();
  const dockerFallback: EngineStep[] = probes.docker.available
    ? [{ engine: 'docker', reason: `if the component fails to load, the ${grants.plugin.runtime} entry runs in Docker` }]
    : [];
  if (!probes.docker.available) skipped.push({ engine: 'docker', reason: `no fallback: ${probes.docker.reason ?? 'unavailable'}` });
  if (step === undefined) {
    return dockerStep(`no wasm engine can run its component (${skipped.map((s) => `${s.engine}: ${s.reason}`).join('; ')})`);
  }
  const wasmFallback: EngineStep[] =
    step.engine === 'wasmtime' && probes.wasm.available ? [{ engine: 'wasm', reason: 'if wasmtime refuses the component when loading it (engine-unavailable)' }] : [];
  return {
    ...base,
    engine: step.engine,
    component: componentPath,
    reason: `${name} ships a component (${componentPath}); ${step.reason}`,
    fallbacks: [...wasmFallback, ...dockerFallback],
  };
}

/** One line for logs and `airlock inspect`: `wasm (the worker engine …); fallbacks: docker; skipped: wasmtime (…)`. */
export function describeSelection(s: Selection): string {
  const parts = [`${s.engine} (${s.reason})`];
  if (s.fallbacks.length > 0) parts.push(`fallbacks: ${s.fallbacks.map((f) => `${f.engine} (${f.reason})`).join(', ')}`);
  if (s.skipped.length > 0) parts.push(`skipped: ${s.skipped.map((f) => `${f.engine} (${f.reason})`).join(', ')}`);
  return parts.join('; ');
}
