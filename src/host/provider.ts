/**
 * The real engines behind a PluginHost: probe them once, let the selector
 * pick one per plugin (src/selector), build the component a wasm plugin
 * needs (src/build), and load the plugin there, falling back along the
 * selector's list when an engine cannot take it.
 *
 * Data flows one way: manifest -> grants -> selector -> engine.
 */
import { buildPlugin, type BuildResult } from '../build/index.ts';
import { probeEngines, type EngineProbe } from '../engines/probe.ts';
import type { EngineName, EnginePlugin } from '../engines/types.ts';
import type { DockerEngine, DockerLoadOptions } from '../engines/docker/index.ts';
import type { EgressDecision } from '../egress/index.ts';
import type { WasmEngine } from '../engines/wasm/index.ts';
import type { WasmtimeEngine } from '../engines/wasmtime/index.ts';
import { AirlockError } from '../errors.ts';
import type { Grants } from '../grants/types.ts';
import type { LoadedManifest } from '../manifest/index.ts';
import { componentStatus, openSelected, selectEngine, type ComponentStatus, type Selection } from '../selector/index.ts';
import type { EnginePreference, EngineProvider, OpenedPlugin } from './plugin-host.ts';

export interface ProviderOptions {
  /** Engine probes to use instead of probing (tests, `airlock inspect --engine`). */
  probes?: Record<EngineName, EngineProbe>;
  /** Build events (Docker image builds, component builds), for progress displays. */
  onEvent?: (event: ProviderEvent) => void;
}

export type ProviderEvent =
  | { type: 'build'; plugin: string; engine: EngineName; message: string }
  | { type: 'selected'; plugin: string; engine: EngineName; reason: string }
  /** A Docker plugin's outgoing connection, as its egress proxy decided it. */
  | { type: 'egress'; plugin: string; decision: EgressDecision };

/**
 * The component a wasm engine runs for these grants: a wasm plugin's entry
 * or a node/python plugin's `wasm:` file, built from source when it is not
 * already a component (cached by content hash, so this is cheap when unchanged).
 */
export async function componentFor(grants: Grants): Promise<string | undefined> {
  return (await buildComponent(grants))?.componentPath;
}

/** As componentFor, with the build's cache facts (`airlock build`); undefined when there is no component. */
export async function buildComponent(grants: Grants, options: { force?: boolean } = {}): Promise<BuildResult | undefined> {
  const { runtime, dir, entry, wasm } = grants.plugin;
  const source = runtime === 'wasm' ? entry : wasm;
  if (source === undefined) return undefined;
  const rel = source.startsWith(`${dir}/`) ? source.slice(dir.length + 1) : source;
  return buildPlugin(dir, { entry: rel, ...(options.force === true ? { force: true } : {}) });
}

/** Selection for one plugin, without loading it: what `airlock inspect` shows. */
export async function planSelection(
  grants: Grants,
  preference: EnginePreference,
  probes: Record<EngineName, EngineProbe>,
): Promise<{ selection: Selection; component: string | undefined; componentError?: AirlockError }> {
  let component: string | undefined;
  let status: ComponentStatus | undefined;
  let componentError: AirlockError | undefined;
  const source = grants.plugin.runtime === 'wasm' ? grants.plugin.entry : grants.plugin.wasm;
  if (source !== undefined) {
    // A file that is not a component yet is left to the selector (a node/python plugin falls back to Docker).
    if (source.endsWith('.wasm')) status = await componentStatus(source, grants.plugin.dir);
    if (status !== undefined && status.status !== 'ok') {
      component = source;
    } else {
      // Engines run the built (or verified and copied) component in the cache, never the plugin's own
      // file: it is checked where the plugin cannot change it between the check and the read (a swap, a FIFO).
      try {
        component = await componentFor(grants);
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
  const selection = selectEngine({
    grants: forSelector,
    ...(status === undefined ? {} : { component: status }),
    config: { engine: preference },
    probes,
  });
  if (componentError !== undefined && selection.engine !== 'docker') throw componentError;
  return { selection, component, ...(componentError === undefined ? {} : { componentError }) };
}

class DefaultProvider implements EngineProvider {
  readonly #options: ProviderOptions;
  #probes: Promise<Record<EngineName, EngineProbe>> | undefined;
  #wasm: Promise<WasmEngine> | undefined;
  #wasmtime: Promise<WasmtimeEngine> | undefined;
  #docker: Promise<DockerEngine> | undefined;

  constructor(options: ProviderOptions) {
    this.#options = options;
    if (options.probes !== undefined) this.#probes = Promise.resolve(options.probes);
  }

  probes(): Promise<Record<EngineName, EngineProbe>> {
    this.#probes ??= probeEngines();
    return this.#probes;
  }

  async open(plugin: LoadedManifest, grants: Grants, preference: EnginePreference): Promise<OpenedPlugin> {
    const { selection } = await planSelection(grants, preference, await this.probes());
    const opened = await openSelected(selection, (engine, component) => this.#load(engine, grants, component, plugin.manifest.build ?? {}));
    this.#options.onEvent?.({ type: 'selected', plugin: plugin.manifest.name, engine: opened.engine, reason: opened.reason });
    return { engine: opened.engine, reason: opened.reason, instance: opened.instance };
  }

  async #load(engine: EngineName, grants: Grants, component: string | undefined, build: DockerLoadOptions['build']): Promise<EnginePlugin> {
    if (engine === 'docker') {
      this.#docker ??= import('../engines/docker/index.ts').then(
        (m) => new m.DockerEngine({ onEgress: (plugin, decision) => this.#options.onEvent?.({ type: 'egress', plugin, decision }) }),
      );
      const docker = await this.#docker;
      const onEvent = this.#options.onEvent;
      // The manifest's build section as the host read it: the engine need not read plugin.yaml again.
      return docker.load(grants, {
        build,
        onProgress: (e) => {
          const message = e.type === 'step' ? e.step : e.type === 'output' ? e.text.trimEnd() : e.type === 'pull' ? e.message : e.type === 'cached' ? `image ${e.tag} is up to date` : `built ${e.tag} in ${(e.ms / 1000).toFixed(1)} s`;
          if (message !== '') onEvent?.({ type: 'build', plugin: grants.plugin.name, engine: 'docker', message });
        },
      });
    }
    if (component === undefined) throw new AirlockError('internal', `the ${engine} engine was selected for ${grants.plugin.name} without a component`);
    if (engine === 'wasm') {
      this.#wasm ??= import('../engines/wasm/index.ts').then((m) => new m.WasmEngine());
      return (await this.#wasm).load(grants, component);
    }
    this.#wasmtime ??= import('../engines/wasmtime/index.ts').then((m) => new m.WasmtimeEngine());
    return (await this.#wasmtime).load(grants, component);
  }

  async close(): Promise<void> {
    const engines = await Promise.all([this.#wasm, this.#wasmtime, this.#docker]);
    await Promise.all(engines.map((e) => e?.close()));
  }
}

export function defaultEngineProvider(options: ProviderOptions = {}): EngineProvider & { probes(): Promise<Record<EngineName, EngineProbe>> } {
  return new DefaultProvider(options);
}
