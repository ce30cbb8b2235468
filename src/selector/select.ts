/**
 * The runtime selector: which engine runs a plugin, and why. A pure
 * function of the manifest's facts, the grants, the host config and the
 * engine probes, so every rule is a row in a table test.
 *
 * The rules read engines by their traits (src/engines/engine.ts), in the
 * registry's order of preference (src/engines/registry.ts): component engines
 * (the worker engine, then wasmtime) run a plugin's WASI component; source
 * engines (Docker) run node and python plugins from source.
 * - A `wasm` plugin runs on the first component engine that is available and
 *   expresses its grants exactly (the worker engine: lowest latency), or on
 *   the configured one. Under `auto`, an engine that refuses a grant
 *   (wasmtime: read-only directories, network allowlists) is passed over with
 *   the refusal as the reason, never widened; engines preferred over the
 *   chosen one are its fallbacks (wasmtime may refuse at load what only the
 *   component reveals).
 * - `node` and `python` plugins run on a source engine.
 * - A node or python plugin that also ships a component (manifest `wasm:`)
 *   runs that component first and falls back to its source engine when the
 *   component is missing or invalid or no component engine can run it.
 * - A forced engine (host config, global or per plugin; the CLI's --engine)
 *   runs the plugin or fails, never silently replaced: not installed, or
 *   refusing these grants, is an `engine-unavailable` error with its install
 *   hint or the refusal, and it has no fallbacks.
 */
import type { EngineDefinition } from '../engines/engine.ts';
import { ENGINES, type EngineName } from '../engines/registry.ts';
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
  /** A WASI core module: not a component itself, but `airlock build` wraps it into one. */
  core?: boolean;
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
  /** The engines to choose from, in order of preference (default: the registry, src/engines/registry.ts). */
  engines?: readonly SelectorEngine[];
}

/** What the selector reads of an engine: its traits and refusals (src/engines/engine.ts). */
export type SelectorEngine = Pick<EngineDefinition, 'name' | 'label' | 'strength' | 'artefact' | 'runtimes' | 'refusals'> & { name: EngineName };

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
  c?.status === 'missing'
    ? `component ${path} is missing${c.reason === undefined ? '' : ` (${c.reason})`}`
    : `component ${path} is invalid${c?.reason === undefined ? '' : `: ${c.reason}`}`;

/** `a`, `a or b`, `a, b or c`. */
const orList = (names: readonly string[]): string => (names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`);

export function selectEngine(input: SelectInput): Selection {
  const { grants, probes } = input;
  const engines = (input.engines ?? ENGINES) as readonly SelectorEngine[];
  const name = grants.plugin.name;
  const runtime = grants.plugin.runtime;
  const perPlugin = input.config?.plugins?.[name];
  const global = input.config?.engine;
  const choice: EngineChoice = perPlugin ?? global ?? 'auto';
  const choiceSource: Selection['choiceSource'] = perPlugin !== undefined ? 'plugin config' : global !== undefined ? 'host config' : 'default';
  const forcedBy = `plugin ${name} is configured with engine: ${choice} (${choiceSource})`;
  const skipped: EngineStep[] = [];
  const base = { choice, choiceSource, skipped };

  const chosen = choice === 'auto' ? undefined : engines.find((e) => e.name === choice);
  if (choice !== 'auto' && chosen === undefined) {
    throw new AirlockError('engine-unavailable', `${forcedBy}, but there is no such engine (engines: ${engines.map((e) => e.name).join(', ')})`, {
      details: { engine: choice },
    });
  }
  const probe = (e: SelectorEngine): EngineAvailability => probes[e.name] ?? { available: false, reason: 'not probed' };
  const refusalsOf = (e: SelectorEngine): string[] => e.refusals(grants);
  const componentEngines = engines.filter((e) => e.artefact === 'component');
  // The engines that run this plugin's own source (Docker for node and python); none for a wasm plugin.
  const sourceEngines = engines.filter((e) => e.artefact === 'source' && e.runtimes.includes(runtime));
  const componentPath = runtime === 'wasm' ? grants.plugin.entry : grants.plugin.wasm;
  const componentOk = componentPath !== undefined && (input.component === undefined || input.component.status === 'ok');

  if (chosen?.artefact === 'source' && !sourceEngines.includes(chosen)) {
    throw new AirlockError(
      'engine-unavailable',
      `${forcedBy}, but ${chosen.label} runs ${chosen.runtimes.join(' and ')} plugins; ${name} is a ${runtime} plugin (use engine: auto, ${orList(engines.filter((e) => e.artefact === 'component' || e.runtimes.includes(runtime)).map((e) => e.name))})`,
      { details: { engine: chosen.name } },
    );
  }

  /** Passed over: unavailable, or refusing these grants (never widened). */
  const passOver = (e: SelectorEngine): string | undefined => {
    const p = probe(e);
    if (!p.available) return p.reason ?? 'unavailable';
    const refusals = refusalsOf(e);
    return refusals.length === 0 ? undefined : `refuses this plugin: ${refusals.join('; ')}`;
  };

  /**
   * The component engine to run the component on, given the choice, or
   * undefined with the reasons in `skipped`. Throws when a forced engine is not installed.
   */
  const pickComponentEngine = (): EngineStep | undefined => {
    if (chosen?.artefact === 'component') {
      if (!probe(chosen).available) throw unavailable(chosen.name, probes, forcedBy);
      const refusals = refusalsOf(chosen);
      if (refusals.length === 0) return { engine: chosen.name, reason: forcedBy };
      // The engine cannot express a grant: never widen it, and never run the plugin elsewhere behind the choice's back.
      throw new AirlockError(
        'engine-unavailable',
        `${forcedBy}, but the ${chosen.name} engine refuses this plugin's grants: ${refusals.join('; ')} (use engine: auto to let Airlock pick an engine that runs it exactly as granted)`,
        { details: { engine: chosen.name, refusals } },
      );
    }
    // auto: in the registry's order of preference.
    const before: string[] = [];
    for (const e of componentEngines) {
      const why = passOver(e);
      if (why === undefined) return { engine: e.name, reason: [...before, `${e.label} ${e.strength}`].join('; ') };
      skipped.push({ engine: e.name, reason: why });
      before.push(`${e.label} ${probe(e).available ? 'refuses this plugin' : 'is unavailable'}`);
    }
    return undefined;
  };

  /**
   * A component engine may still refuse at load what only the component reveals (wasmtime and a
   * wasi:http import): the engines preferred over it that could run it are its fallbacks.
   */
  const componentFallbacks = (step: EngineStep): EngineStep[] => {
    if (chosen !== undefined) return [];
    const at = componentEngines.findIndex((e) => e.name === step.engine);
    const label = componentEngines[at]?.label ?? step.engine;
    return componentEngines
      .slice(0, Math.max(0, at))
      .filter((e) => passOver(e) === undefined)
      .map((e) => ({ engine: e.name, reason: `if ${label} refuses the component when loading it (engine-unavailable)` }));
  };

  /** The plugin's source on a source engine (the chosen one, or the first that can run it), or an error naming why not. */
  const sourceStep = (reason: (label: string) => string): Selection => {
    const candidates = chosen?.artefact === 'source' ? [chosen] : sourceEngines;
    const ready = candidates.find((e) => passOver(e) === undefined);
    if (ready !== undefined) return { ...base, engine: ready.name, reason: reason(ready.label), fallbacks: [] };
    const first = candidates[0];
    if (first === undefined)
      throw new AirlockError('engine-unavailable', `no engine runs ${runtime} plugins from source; ${name} needs one`, { details: { runtime } });
    const why = `${runtime} plugin ${name} needs ${first.label} (${reason(first.label)})`;
    if (!probe(first).available) throw unavailable(first.name, probes, why);
    const refusals = refusalsOf(first);
    throw new AirlockError('engine-unavailable', `${why}, but the ${first.name} engine cannot run it exactly as granted: ${refusals.join('; ')}`, {
      details: { engine: first.name, refusals },
    });
  };

  if (sourceEngines.length === 0) {
    // Only its component can run (a wasm plugin).
    const step = pickComponentEngine();
    if (step === undefined) {
      throw new AirlockError('engine-unavailable', `no engine can run ${runtime} plugin ${name}: ${skipped.map((s) => `${s.engine} ${s.reason}`).join('; ')}`, {
        details: { skipped },
      });
    }
    return { ...base, engine: step.engine, component: grants.plugin.entry, reason: step.reason, fallbacks: componentFallbacks(step) };
  }

  // node / python: their source, or the component they ship.
  if (chosen?.artefact === 'source') return sourceStep(() => forcedBy);

  if (componentPath === undefined) {
    if (chosen?.artefact === 'component') {
      throw new AirlockError(
        'engine-unavailable',
        `${forcedBy}, but ${name} is a ${runtime} plugin without a component (add a \`wasm:\` entry to plugin.yaml, or use engine: ${orList(sourceEngines.map((e) => e.name))})`,
        {
          details: { engine: chosen.name },
        },
      );
    }
    return sourceStep((label) => `${runtime} plugins run in ${label}`);
  }

  if (!componentOk) {
    const why = missingWhy(input.component, componentPath);
    if (chosen?.artefact === 'component') throw new AirlockError('engine-unavailable', `${forcedBy}, but ${why}`, { details: { engine: chosen.name } });
    for (const e of componentEngines) skipped.push({ engine: e.name, reason: why });
    return sourceStep((label) => `${why}, so the ${runtime} entry runs in ${label}`);
  }

  const step = pickComponentEngine();
  const sourceFallbacks: EngineStep[] = [];
  // A forced engine has no fallbacks (see the header).
  for (const e of chosen === undefined ? sourceEngines : []) {
    const why = passOver(e);
    if (why === undefined) {
      sourceFallbacks.push({ engine: e.name, reason: `if the component fails to load, the ${runtime} entry runs in ${e.label}` });
      break;
    }
    skipped.push({ engine: e.name, reason: `no fallback: ${why}` });
  }
  if (step === undefined) {
    return sourceStep(() => `no wasm engine can run its component (${skipped.map((s) => `${s.engine}: ${s.reason}`).join('; ')})`);
  }
  return {
    ...base,
    engine: step.engine,
    component: componentPath,
    reason: `${name} ships a component (${componentPath}); ${step.reason}`,
    fallbacks: [...componentFallbacks(step), ...sourceFallbacks],
  };
}

/** One line for logs and `airlock inspect`: `wasm (the worker engine …); fallbacks: docker; skipped: wasmtime (…)`. */
/**
 * The engine that will most likely run this plugin, known without probing:
 * the chosen engine, or under `auto` the first component engine that needs
 * nothing outside Node and refuses none of these grants (what selectEngine
 * picks when the component is fine). Undefined when that takes a probe or
 * the plugin has no component. Only a hint, for starting what takes long
 * early (EngineDefinition.warm): selectEngine decides.
 */
export function likelyEngine(
  grants: Grants,
  choice: EngineChoice,
  engines: readonly (SelectorEngine & Pick<EngineDefinition, 'builtin'>)[] = ENGINES,
): EngineName | undefined {
  const componentPath = grants.plugin.runtime === 'wasm' ? grants.plugin.entry : grants.plugin.wasm;
  if (componentPath === undefined) return undefined;
  const engine = componentEngine(choice, engines);
  return engine !== undefined && (choice !== 'auto' || engine.refusals(grants).length === 0) ? engine.name : undefined;
}

/**
 * Before any plugin is known, the engine components go to under `choice`: the chosen one when it runs
 * components, or under `auto` the first component engine when it needs nothing outside Node (likelyEngine,
 * less the plugin's own grants). Only a hint (a host warms it when made).
 */
export function componentEngine<E extends SelectorEngine & Pick<EngineDefinition, 'builtin'>>(choice: EngineChoice, engines: readonly E[]): E | undefined {
  if (choice !== 'auto') return engines.find((e) => e.name === choice && e.artefact === 'component');
  const first = engines.find((e) => e.artefact === 'component');
  return first?.builtin === true ? first : undefined;
}

export function describeSelection(s: Selection): string {
  const parts = [`${s.engine} (${s.reason})`];
  if (s.fallbacks.length > 0) parts.push(`fallbacks: ${s.fallbacks.map((f) => `${f.engine} (${f.reason})`).join(', ')}`);
  if (s.skipped.length > 0) parts.push(`skipped: ${s.skipped.map((f) => `${f.engine} (${f.reason})`).join(', ')}`);
  return parts.join('; ');
}

/** Thrown inside selectEngine by selectProbing's view of the probes when a rule reads one not taken yet. */
const UNPROBED = Symbol('unprobed');

/**
 * selectEngine, probing an engine only when a rule reads its probe: a wasm
 * plugin the worker engine (builtin, never unavailable) runs probes neither
 * wasmtime nor Docker, so a fresh `airlock call` loads no Docker client and
 * spawns no `wasmtime --version`. The selector is pure, so it is run again
 * with each probe it asked for (at most once per engine); the selection is
 * the one selectEngine makes with every probe (engine, fallbacks, skipped),
 * its reason naming the engines it did not need to probe. `probe` answers
 * for one engine (the caller caches).
 */
export async function selectProbing(input: Omit<SelectInput, 'probes'>, probe: (engine: EngineName) => Promise<EngineAvailability>): Promise<Selection> {
  const taken: Partial<Record<string, EngineAvailability>> = {};
  for (;;) {
    let wanted: EngineName | undefined;
    const view = new Proxy(taken, {
      get(target, key) {
        if (typeof key === 'string' && !Object.hasOwn(target, key)) {
          wanted = key as EngineName;
          throw UNPROBED;
        }
        return Reflect.get(target, key);
      },
    }) as Record<EngineName, EngineAvailability>;
    try {
      const selection = selectEngine({ ...input, probes: view });
      const unprobed = ((input.engines ?? ENGINES) as readonly SelectorEngine[]).filter((e) => !Object.hasOwn(taken, e.name)).map((e) => e.label);
      const named = unprobed.length <= 1 ? unprobed.join('') : `${unprobed.slice(0, -1).join(', ')} and ${unprobed.at(-1)}`;
      return unprobed.length === 0 ? selection : { ...selection, reason: `${selection.reason}; ${named} not probed (not needed)` };
    } catch (err) {
      if (err !== UNPROBED || wanted === undefined) throw err;
      taken[wanted] = await probe(wanted);
    }
  }
}
