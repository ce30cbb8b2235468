/**
 * The real engines behind a PluginHost: probe them once, let the selector
 * pick one per plugin (src/selector), build the component a component engine
 * needs (src/build), and load the plugin there, falling back along the
 * selector's list when an engine cannot take it. Every engine is reached
 * through the registry (./registry.ts) and the Engine interface (./engine.ts).
 *
 * Data flows one way: manifest -> grants -> selector -> engine.
 */
import type { BuildResult } from '../build/index.ts';
import { AirlockError } from '../errors.ts';
import type { Grants } from '../grants/types.ts';
import type { LoadedManifest } from '../manifest/index.ts';
import {
  componentEngine,
  componentStatus,
  likelyEngine,
  openSelected,
  selectEngine,
  selectProbing,
  type ComponentStatus,
  type Selection,
} from '../selector/index.ts';
import type { EgressDecision } from '../egress/index.ts';
import type { Artefact, Engine, EngineDefinition, EngineEvent, EngineProbe, Prepared } from '../engines/engine.ts';
import { ENGINES, engineDefinition, type EngineName } from '../engines/registry.ts';
import type { EnginePlugin } from '../engines/types.ts';

export type EnginePreference = 'auto' | EngineName;

/** What the host needs from the engines: open a plugin under its grants on the engine the selector picks. */
export interface EngineProvider {
  open(plugin: LoadedManifest, grants: Grants, preference: EnginePreference, options?: OpenOptions): Promise<OpenedPlugin>;
  /** A plugin with these grants is about to be opened: start ahead what its likely engine's load will wait for (optional, a hint). */
  warm?(grants: Grants, preference: EnginePreference): void;
  /** A host was made whose loads use `preference`: start ahead what its first load will likely wait for (optional, a hint). */
  prepare?(preference: EnginePreference): void;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** This open's own events (a component or image build's steps, the engine chosen, its egress decisions), besides ProviderOptions.onEvent. */
  onEvent?: (event: ProviderEvent) => void;
  /** Called once the chosen engine is starting the plugin's instances off this thread (EngineLoadOptions.onStarting). */
  onStarting?: () => void;
}

export interface OpenedPlugin {
  engine: EngineName;
  /** Why this engine (the selector's words). */
  reason: string;
  instance: EnginePlugin;
}

export interface ProviderOptions {
  /** Engine probes to use instead of probing (tests, `airlock inspect --engine`). */
  probes?: Record<EngineName, EngineProbe>;
  /** Build events (Docker image builds, component builds), for progress displays. */
  onEvent?: (event: ProviderEvent) => void;
}

export type ProviderEvent =
  /** Preparing a plugin: a component build (no engine: before one is chosen), or on an engine (an image build's output, a cache hit). */
  | { type: 'build'; plugin: string; engine?: EngineName; message: string; detail?: boolean }
  | { type: 'selected'; plugin: string; engine: EngineName; reason: string }
  /** A plugin's outgoing connection, as its egress proxy decided it. */
  | { type: 'egress'; plugin: string; decision: EgressDecision };

/**
 * The component a wasm engine runs for these grants: a wasm plugin's entry
 * or a node/python plugin's `wasm:` file, built from source when it is not
 * already a component (cached by content hash, so this is cheap when unchanged).
 */
export async function componentFor(grants: Grants, onEvent?: (event: ProviderEvent) => void): Promise<string | undefined> {
  const { name } = grants.plugin;
  return (await buildComponent(grants, onEvent === undefined ? {} : { onBuild: (message) => onEvent({ type: 'build', plugin: name, message }) }))
    ?.componentPath;
}

/** As componentFor, with the build's cache facts (`airlock build`); undefined when there is no component. */
export async function buildComponent(grants: Grants, options: { force?: boolean; onBuild?: (message: string) => void } = {}): Promise<BuildResult | undefined> {
  const { runtime, dir, entry, wasm } = grants.plugin;
  const source = runtime === 'wasm' ? entry : wasm;
  if (source === undefined) return undefined;
  const rel = source.startsWith(`${dir}/`) ? source.slice(dir.length + 1) : source;
  // Loaded here: the build code (toolchains, sandboxes) is not needed by a host that only imports Airlock.
  const { buildPlugin } = await import('../build/index.ts');
  return buildPlugin(dir, {
    entry: rel,
    ...(options.force === true ? { force: true } : {}),
    ...(options.onBuild === undefined ? {} : { onBuild: options.onBuild }),
  });
}

/**
 * What a source engine builds ahead of a node or python plugin's first call (its image), without starting
 * anything: `airlock build`. The first engine that runs the plugin's runtime from source does it.
 */
export async function prepareSource(
  grants: Grants,
  build: NonNullable<Extract<Artefact, { kind: 'source' }>['build']>,
  options: { onEvent?: (event: EngineEvent) => void; signal?: AbortSignal } = {},
): Promise<Prepared | undefined> {
  const { name, runtime } = grants.plugin;
  const definition = ENGINES.find((e) => e.artefact === 'source' && e.runtimes.includes(runtime));
  if (definition === undefined) return undefined;
  const probe = await (definition.probeFor?.(grants) ?? definition.probe());
  if (!probe.available) {
    throw new AirlockError(
      'engine-unavailable',
      `${name} is a ${runtime} plugin and needs ${definition.label} to build: ${probe.reason ?? 'unavailable'}; ${probe.installHint ?? ''}`,
      {
        details: { engine: definition.name },
      },
    );
  }
  const engine = await definition.create();
  try {
    return (await engine.prepare?.(grants, { kind: 'source', build }, options)) ?? undefined;
  } finally {
    await engine.close();
  }
}

/**
 * Selection for one plugin, without loading it: what `airlock inspect` shows. `probes`: every engine's
 * probe, or one engine's probe on demand (only the engines the selector's rules read are probed).
 */
export async function planSelection(
  grants: Grants,
  preference: EnginePreference,
  probes: Record<EngineName, EngineProbe> | ((engine: EngineName) => Promise<EngineProbe>),
  onEvent?: (event: ProviderEvent) => void,
): Promise<{ selection: Selection; component: string | undefined; componentError?: AirlockError }> {
  let component: string | undefined;
  let status: ComponentStatus | undefined;
  let componentError: AirlockError | undefined;
  const source = grants.plugin.runtime === 'wasm' ? grants.plugin.entry : grants.plugin.wasm;
  if (source !== undefined) {
    // A file that is not a component yet is left to the selector (a node/python plugin falls back to Docker);
    // a core module is built (wrapped into a component) like a source.
    if (source.endsWith('.wasm')) status = await componentStatus(source, grants.plugin.dir);
    if (status !== undefined && status.status !== 'ok' && status.core !== true) {
      component = source;
    } else {
      // Engines run the built (or verified and copied) component in the cache, never the plugin's own
      // file: it is checked where the plugin cannot change it between the check and the read (a swap, a FIFO).
      try {
        component = await componentFor(grants, onEvent);
        status = { status: 'ok' };
      } catch (e) {
        componentError = e instanceof AirlockError ? e : new AirlockError('build-failed', String(e), { cause: e });
        status = { status: 'invalid', reason: componentError.message };
      }
    }
  }
  const forSelector: Grants =
    component === undefined
      ? grants
      : { ...grants, plugin: { ...grants.plugin, ...(grants.plugin.runtime === 'wasm' ? { entry: component } : { wasm: component }) } };
  const input = { grants: forSelector, ...(status === undefined ? {} : { component: status }), config: { engine: preference } };
  const selection = typeof probes === 'function' ? await selectProbing(input, probes) : selectEngine({ ...input, probes });
  // A component that failed to build is the plugin's error unless a source engine runs the plugin instead.
  if (componentError !== undefined && engineDefinition(selection.engine)?.artefact !== 'source') throw componentError;
  return { selection, component, ...(componentError === undefined ? {} : { componentError }) };
}

/** What an engine loads for this plugin: the component (component engines) or the source and its build section. */
function artefactFor(definition: EngineDefinition, component: string | undefined, plugin: LoadedManifest): Artefact {
  if (definition.artefact === 'source') return { kind: 'source', build: plugin.manifest.build ?? {} };
  if (component === undefined) throw new AirlockError('internal', `the ${definition.name} engine was selected for ${plugin.manifest.name} without a component`);
  return { kind: 'component', path: component };
}

/** Starts ahead what the likely engine of a plugin with these grants will wait for (src/selector likelyEngine, EngineDefinition.warm). */
export function warmEngine(grants: Grants, preference: EnginePreference): void {
  const name = likelyEngine(grants, preference);
  if (name !== undefined) engineDefinition(name)?.warm?.();
}

/**
 * Before any plugin is known (a host made, `airlock call` starting): starts ahead what the engine components go
 * to under `preference` will wait for (src/selector componentEngine, EngineDefinition.warm: the worker engine's
 * blank thread, which the first load adopts, its boot overlapping the host's import, reading and building; issue
 * 21). A process that only runs Docker plugins starts that one thread for nothing.
 */
export function prepareEngine(preference: EnginePreference): void {
  componentEngine(preference, ENGINES)?.warm?.();
}

class DefaultProvider implements EngineProvider {
  readonly #options: ProviderOptions;
  /** Each engine probed once, on first need (the selector asks only for those its rules read). */
  readonly #probes = new Map<EngineName, Promise<EngineProbe>>();
  /** Engines created on first use, by name. */
  readonly #engines = new Map<string, Promise<Engine>>();

  constructor(options: ProviderOptions) {
    this.#options = options;
  }

  /** One engine's probe for these grants: its own (a daemon the host policy names) or the engine's, taken once. */
  #probe(name: EngineName, grants?: Grants): Promise<EngineProbe> {
    const definition = engineDefinition(name);
    if (definition === undefined) return Promise.resolve({ engine: name, available: false, reason: 'no such engine' });
    const own = grants === undefined ? undefined : definition.probeFor?.(grants);
    if (own !== undefined) return own;
    const given = this.#options.probes?.[name];
    if (given !== undefined) return Promise.resolve(given);
    let probe = this.#probes.get(name);
    if (probe === undefined) this.#probes.set(name, (probe = definition.probe()));
    return probe;
  }

  /** Every engine's probe (`airlock inspect`, `doctor`). */
  async probes(): Promise<Record<EngineName, EngineProbe>> {
    return Object.fromEntries(await Promise.all(ENGINES.map(async (e) => [e.name, await this.#probe(e.name)] as const))) as Record<EngineName, EngineProbe>;
  }

  async open(plugin: LoadedManifest, grants: Grants, preference: EnginePreference, options: OpenOptions = {}): Promise<OpenedPlugin> {
    const emit = (e: ProviderEvent): void => {
      this.#options.onEvent?.(e);
      options.onEvent?.(e);
    };
    const { selection } = await planSelection(grants, preference, (name) => this.#probe(name, grants), emit);
    const opened = await openSelected(selection, async (name, component) => {
      const definition = engineDefinition(name);
      if (definition === undefined) throw new AirlockError('internal', `no engine named ${name}`);
      const engine = await this.#engine(definition);
      return engine.load(grants, artefactFor(definition, component, plugin), {
        onEvent: (e: EngineEvent) => emit(e.type === 'build' ? { ...e, engine: name } : e),
        ...(options.onStarting === undefined ? {} : { onStarting: options.onStarting }),
      });
    });
    emit({ type: 'selected', plugin: plugin.manifest.name, engine: opened.engine, reason: opened.reason });
    return { engine: opened.engine, reason: opened.reason, instance: opened.instance };
  }

  warm(grants: Grants, preference: EnginePreference): void {
    warmEngine(grants, preference);
  }

  prepare(preference: EnginePreference): void {
    prepareEngine(preference);
  }

  #engine(definition: EngineDefinition): Promise<Engine> {
    let engine = this.#engines.get(definition.name);
    if (engine === undefined) {
      // Events reach the provider through each load's onEvent (build steps, and egress decisions after it).
      engine = definition.create();
      // A failed creation is tried again by the next load.
      engine.catch(() => this.#engines.delete(definition.name));
      this.#engines.set(definition.name, engine);
    }
    return engine;
  }

  async close(): Promise<void> {
    const engines = await Promise.allSettled(this.#engines.values());
    await Promise.all(engines.map((e) => (e.status === 'fulfilled' ? e.value.close() : undefined)));
  }
}

export function defaultEngineProvider(
  options: ProviderOptions = {},
): EngineProvider & { probes(): Promise<Record<EngineName, EngineProbe>>; warm(grants: Grants, preference: EnginePreference): void } {
  return new DefaultProvider(options);
}
