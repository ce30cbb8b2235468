/**
 * The WebAssembly worker engine: WASI 0.2 components, transpiled by jco on
 * the host, run in Node worker threads with exactly the WASI imports the
 * grants allow (src/capabilities).
 *
 *   const engine = new WasmEngine();
 *   const plugin = await engine.load(grants, { kind: 'component', path: '/path/plugin.wasm' });
 *   const { output, logs, metrics } = await plugin.call('echo', '{"x":1}', { signal, timeoutMs });
 *   await plugin.close();
 *   await engine.close();
 *
 * Failures are AirlockErrors: timeout, memory-limit, output-limit, trap,
 * overloaded, aborted, plugin-error (details.pluginCode / pluginMessage),
 * crash, invalid-input (input too large for the channel).
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import { openCapabilities, prepareCoreModule, wasiPlan, type RouteOptions } from '../../capabilities/index.ts';
import { AirlockError } from '../../errors.ts';
import type { Grants } from '../../grants/types.ts';
import type { Artefact, Engine, EngineLoadOptions } from '../engine.ts';
import type { CallOptions, CallResult, EnginePlugin } from '../types.ts';
import { glueFiles } from './glue-file.ts';
import { compileCore } from './modules.ts';
import { PluginPool } from './pool.ts';
import { defaultStandbySize, standby } from './standby.ts';
import type { TranspileFn, TranspiledComponent } from './types.ts';
import type { WasmModule } from '../../wasm-api.ts';

export { createInstance, runCall, type LiveInstance } from './instance.ts';
export type { InstantiateFn, TranspiledComponent, TranspileFn } from './types.ts';

export interface WasmEngineOptions {
  /**
   * Component -> glue + core modules. Defaults to Airlock's own transpile
   * step (./transpile.ts); tests and tools may inject another.
   */
  transpile?: TranspileFn;
  /**
   * After sending a call, the host watches the channel this long (µs) before
   * falling back to Atomics.waitAsync. A quick call then resolves without an
   * event-loop wake-up (~20-40 µs here). This is a bounded busy-wait on the
   * main thread: set 0 to never spin. Default 20.
   */
  hostSpinMicros?: number;
  /**
   * After answering, a worker watches the channel this long (µs) for the next
   * call before sleeping in Atomics.wait (a futex wake-up costs more than a
   * small call). Default 20.
   */
  workerSpinMicros?: number;
  /**
   * Options of each plugin's egress route (the loopback egress proxy wasi:http
   * goes through): tests inject a resolver (names -> local servers) and a CA.
   */
  egress?: RouteOptions;
  /** Events of every plugin (egress decisions), unless a load passes its own. */
  onEvent?: EngineLoadOptions['onEvent'];
  /**
   * Blank workers this process keeps started for loads to adopt (./standby.ts;
   * shared by every worker engine in the process, the largest asked for
   * wins). Default: half the cores, at least 1, at most 4
   * (AIRLOCK_WASM_STANDBY sets it too). 0: every worker starts on demand.
   */
  standby?: number;
}

export class WasmPlugin implements EnginePlugin {
  readonly grants: Grants;
  readonly #pool: PluginPool;
  readonly #onClose: () => Promise<void>;

  /** @internal use WasmEngine.load */
  constructor(grants: Grants, pool: PluginPool, onClose: () => Promise<void>) {
    this.grants = grants;
    this.#pool = pool;
    this.#onClose = onClose;
  }

  call(tool: string, input: string, options?: CallOptions): Promise<CallResult> {
    return this.#pool.call(tool, input, options);
  }

  park(): Promise<number> {
    return this.#pool.park();
  }

  async close(): Promise<void> {
    await this.#pool.close();
    await this.#onClose();
  }
}

async function readGlue(url: string): Promise<string> {
  try {
    return await readFile(new URL(url), 'utf8');
  } catch (e) {
    throw new AirlockError('build-failed', `cannot read the transpiled glue ${url}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

async function defaultTranspile(componentPath: string): Promise<TranspiledComponent> {
  // Loaded on the first load: the transpile step is a module of its own (and heavy to load).
  return (await import('./transpile.ts')).transpileComponent(componentPath);
}

export class WasmEngine implements Engine {
  readonly name = 'wasm';
  readonly #transpile: TranspileFn;
  readonly #hostSpinMicros: number;
  readonly #workerSpinMicros: number;
  readonly #egress: RouteOptions;
  readonly #onEvent: EngineLoadOptions['onEvent'];
  readonly #plugins = new Set<WasmPlugin>();

  constructor(options: WasmEngineOptions = {}) {
    this.#transpile = options.transpile ?? defaultTranspile;
    this.#hostSpinMicros = Math.max(0, options.hostSpinMicros ?? 20);
    this.#workerSpinMicros = Math.max(0, options.workerSpinMicros ?? 20);
    this.#egress = options.egress ?? {};
    this.#onEvent = options.onEvent;
    standby.want(options.standby ?? defaultStandbySize());
  }

  /**
   * Transpiles (cached), caps and compiles the core modules once on the host,
   * and starts grants.resources.concurrency workers that share them.
   */
  async load(grants: Grants, artefact: Artefact, options: EngineLoadOptions = {}): Promise<WasmPlugin> {
    if (artefact.kind !== 'component')
      throw new AirlockError('internal', `the worker engine runs components; it was given a ${artefact.kind} artefact for ${grants.plugin.name}`);
    const componentPath = artefact.path;
    const t = await this.#transpile(componentPath);
    // Capped here (the capabilities' rewrites), compiled once per process while a plugin holds them (./modules.ts).
    const compiledModules = await Promise.all(
      Object.entries(t.modules).map(async ([name, bytes]) => {
        const capped = prepareCoreModule(grants, bytes, `${grants.plugin.name}: ${name}`);
        try {
          return [name, await compileCore(capped)] as const;
        } catch (e) {
          throw new AirlockError('build-failed', `${componentPath}: core module ${name} does not compile: ${e instanceof Error ? e.message : String(e)}`, {
            cause: e,
          });
        }
      }),
    );
    const modules: Record<string, WasmModule> = Object.fromEntries(compiledModules);
    const glueName = isAbsolute(t.glue) ? pathToFileURL(t.glue).href : t.glue;
    const glue = await glueFiles(t.glueSource ?? (await readGlue(glueName)), glueName);
    const onEvent = options.onEvent ?? this.#onEvent;
    const egress: RouteOptions =
      this.#egress.onDecision !== undefined || onEvent === undefined
        ? this.#egress
        : { ...this.#egress, onDecision: (decision) => onEvent({ type: 'egress', plugin: grants.plugin.name, decision }) };
    const capabilities = await openCapabilities(grants, { egress });
    const pool = new PluginPool({
      grants,
      glueUrl: glue.url,
      ...(glue.script === undefined ? {} : { glueScript: glue.script }),
      glueName,
      modules,
      wasi: wasiPlan(t.imports),
      capabilities,
      hostSpinMicros: this.#hostSpinMicros,
      workerSpinMicros: this.#workerSpinMicros,
      // The first worker handed the plugin: the caller may work meanwhile (EngineLoadOptions.onStarting).
      ...(options.onStarting === undefined ? {} : { onAdopting: once(options.onStarting) }),
    });
    try {
      await pool.start();
    } catch (e) {
      await capabilities.close();
      throw e;
    }
    const plugin: WasmPlugin = new WasmPlugin(grants, pool, async () => {
      this.#plugins.delete(plugin);
      await capabilities.close();
    });
    this.#plugins.add(plugin);
    return plugin;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#plugins].map((p) => p.close()));
  }
}

/** `fn`, called at most once. */
function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}
