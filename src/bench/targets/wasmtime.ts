/**
 * The wasmtime CLI engine (one process per call on Airlock's precompiled
 * .cwasm, flags from the grants) and the baseline a user would write
 * without Airlock: `wasmtime run --invoke 'call(…)' plugin.wasm` per call,
 * with wasmtime's own defaults (its module cache in ~/.cache/wasmtime).
 */
import { AirlockError } from '../../errors.ts';
import { wasmtime } from '../../engines/wasmtime/definition.ts';
import { probeWasmtime, splitToolResult, waveString, WasmtimeEngine } from '../../engines/wasmtime/index.ts';
import { withCacheRoot } from '../cache.ts';
import { componentOf, withInstances, type OpenOptions, type PluginSetup, type Session, type Target, type TargetBudgets } from '../target.ts';
import { runProcess } from './process.ts';

const PER_PROCESS: TargetBudgets = { warmup: 1, latency: { samples: 20, ms: 600 }, throughput: { samples: 64, ms: 500 }, maxInstances: 32 };

async function unavailable(): Promise<string | undefined> {
  const p = await probeWasmtime();
  return p.available ? undefined : `${p.reason ?? 'wasmtime not found'} (${p.installHint})`;
}

export const wasmtimeTarget: Target = {
  name: 'wasmtime',
  label: 'wasmtime engine (process per call, .cwasm)',
  kind: 'engine',
  engine: wasmtime.name,
  form: 'component',
  budgets: PER_PROCESS,
  unavailable,
  async open(setup: PluginSetup, options: OpenOptions): Promise<Session> {
    // Probed before the cache moves: the wasmtime binary may live in Airlock's cache.
    const engine = new WasmtimeEngine({ probe: await probeWasmtime() });
    const grants = withInstances(setup.grants, options.instances);
    const plugin = await withCacheRoot(options.cacheRoot, () => engine.load(grants, { kind: 'component', path: componentOf(setup) }));
    return {
      call: async (tool, input, signal) => (await plugin.call(tool, input, { signal })).output,
      close: () => engine.close(),
    };
  },
};

export const wasmtimeRunTarget: Target = {
  name: 'wasmtime-run',
  label: '`wasmtime run` per call (no Airlock)',
  kind: 'baseline',
  form: 'component',
  budgets: PER_PROCESS,
  unavailable,
  async open(setup: PluginSetup, options: OpenOptions): Promise<Session> {
    const probe = await probeWasmtime();
    if (probe.path === undefined) throw new AirlockError('engine-unavailable', `wasmtime is unavailable: ${probe.reason ?? 'not found'}`);
    const binary = probe.path;
    const component = componentOf(setup);
    // Without caches: wasmtime's module cache moves with XDG_CACHE_HOME.
    const env = options.cacheRoot === undefined ? process.env : { ...process.env, XDG_CACHE_HOME: options.cacheRoot };
    return {
      async call(tool, input, signal) {
        const stdout = await runProcess(binary, ['run', '--invoke', `call(${waveString(tool)}, ${waveString(input)})`, component], { env, signal });
        const r = splitToolResult(stdout)?.result;
        if (r === undefined) throw new AirlockError('crash', `wasmtime run printed no result: ${stdout.slice(0, 200)}`);
        if (!r.ok) throw new AirlockError('plugin-error', `${tool}: ${r.code}: ${r.message}`);
        return r.value;
      },
      close: async () => undefined,
    };
  },
};
