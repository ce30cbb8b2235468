/**
 * The wasmtime CLI engine: every call is one `wasmtime run --invoke` process
 * on the precompiled component, with flags from the grants (./flags.ts),
 * started by the host's spawn helper (src/spawn/), not by the host itself.
 * Nothing survives a call, so `isolation` is always per-call here.
 *
 *   const engine = new WasmtimeEngine();
 *   const plugin = await engine.load(grants, { kind: 'component', path: '/path/plugin.wasm' });
 *   const { output, logs, metrics } = await plugin.call('echo', '{"x":1}', { signal, timeoutMs });
 *   await plugin.close();
 */
import { AirlockError } from '../../errors.ts';
import type { Grants } from '../../grants/types.ts';
import type { Capability } from '../../capabilities/index.ts';
import type { Artefact, Engine } from '../engine.ts';
import type { CallOptions, CallResult, EnginePlugin } from '../types.ts';
import { SlotPool } from '../../slots/pool.ts';
import { type SpawnHelper, sharedSpawnHelper } from '../../spawn/client.ts';
import { precompile, unlinkableImports } from './compile.ts';
import { wasmtimeCommand, wasmtimeImportsCommand } from './flags.ts';
import { probeWasmtime, type WasmtimeProbe } from './locate.ts';
import { type Invoke, KILL_GRACE_MS, type Lane, ProcessDriver, type WasmtimePluginInfo } from './process.ts';

export { KILL_GRACE_MS, MAX_INVOKE_BYTES, type WasmtimePluginInfo } from './process.ts';

export class WasmtimePlugin implements EnginePlugin {
  readonly grants: Grants;
  readonly info: WasmtimePluginInfo;
  readonly #pool: SlotPool<Lane, Invoke, CallResult>;
  readonly #started: Promise<void>;
  readonly #onClose: () => void;

  /** @internal use WasmtimeEngine.load */
  constructor(grants: Grants, info: WasmtimePluginInfo, env: Record<string, string>, helper: SpawnHelper, onClose: () => void) {
    this.grants = grants;
    this.info = info;
    const driver = new ProcessDriver(grants, info, env, helper);
    // The granted timeout is wasmtime's own epoch deadline (-W timeout), which reports it with the guest's logs; the pool's timer is the last resort.
    this.#pool = driver.pool = new SlotPool(driver, grants, { instance: 'process', timeoutGraceMs: KILL_GRACE_MS });
    // Starting a lane spawns nothing: this settles at once.
    this.#started = this.#pool.start();
    this.#onClose = onClose;
  }

  async call(tool: string, input: string, options: CallOptions = {}): Promise<CallResult> {
    await this.#started;
    return this.#pool.call(tool, input, options);
  }

  async close(): Promise<void> {
    await this.#pool.close();
    this.#onClose();
  }
}

export interface WasmtimeEngineOptions {
  /** A probe result to use instead of locating wasmtime (tests, `airlock doctor` reuse). */
  probe?: WasmtimeProbe;
  /** Capability mappings (default: every capability's, see ./flags.ts). */
  capabilities?: readonly Capability[];
  /** What starts the wasmtime processes (default: the host's shared spawn helper, src/spawn/). */
  spawnHelper?: SpawnHelper;
}

export class WasmtimeEngine implements Engine {
  readonly name = 'wasmtime';
  readonly #options: WasmtimeEngineOptions;
  #probe: Promise<WasmtimeProbe> | undefined;
  readonly #plugins = new Set<WasmtimePlugin>();

  constructor(options: WasmtimeEngineOptions = {}) {
    this.#options = options;
    if (options.probe !== undefined) this.#probe = Promise.resolve(options.probe);
  }

  probe(): Promise<WasmtimeProbe> {
    this.#probe ??= probeWasmtime();
    return this.#probe;
  }

  /**
   * Refuses (engine-unavailable) when wasmtime is missing or when a grant
   * cannot be expressed exactly by the CLI; otherwise compiles the component
   * ahead of time (cached) and returns a plugin whose calls each run one
   * wasmtime process.
   */
  async load(grants: Grants, artefact: Artefact): Promise<WasmtimePlugin> {
    if (artefact.kind !== 'component')
      throw new AirlockError('internal', `the wasmtime engine runs components; it was given a ${artefact.kind} artefact for ${grants.plugin.name}`);
    const componentPath = artefact.path;
    const probe = await this.probe();
    if (!probe.available || probe.path === undefined || probe.version === undefined) {
      throw new AirlockError('engine-unavailable', `the wasmtime engine is unavailable: ${probe.reason ?? 'not found'}; ${probe.installHint}`, {
        details: { installHint: probe.installHint },
      });
    }
    const cmd = wasmtimeCommand(grants, this.#options.capabilities);
    if (cmd.refusals.length > 0) {
      throw new AirlockError('engine-unavailable', `the wasmtime engine refuses plugin ${grants.plugin.name}: ${cmd.refusals.join('; ')}`, {
        details: { refusals: cmd.refusals },
      });
    }
    const { cwasm, imports, stamp } = await precompile(probe.path, probe.version, componentPath);
    const unknown = unlinkableImports(imports);
    if (unknown.length > 0) {
      throw new AirlockError(
        'build-failed',
        `${componentPath} imports ${unknown.join(', ')}, which Airlock does not provide (components may import WASI 0.2 interfaces only)`,
        {
          details: { imports: unknown },
        },
      );
    }
    const forImports = wasmtimeImportsCommand(imports, this.#options.capabilities);
    if (forImports.refusals.length > 0) {
      throw new AirlockError('engine-unavailable', `the wasmtime engine refuses plugin ${grants.plugin.name}: ${forImports.refusals.join('; ')}`, {
        details: { refusals: forImports.refusals },
      });
    }
    cmd.args.push(...forImports.args);
    const info: WasmtimePluginInfo = { binary: probe.path, version: probe.version, cwasm, component: componentPath, stamp, args: cmd.args };
    const plugin: WasmtimePlugin = new WasmtimePlugin(grants, info, cmd.env, this.#options.spawnHelper ?? sharedSpawnHelper(), () =>
      this.#plugins.delete(plugin),
    );
    this.#plugins.add(plugin);
    return plugin;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#plugins].map((p) => p.close()));
  }
}
