/**
 * The in-process targets: the component called in this thread with no
 * isolation (the baseline every ratio is against), and the worker engine.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadWasi, prepareCoreModule, wasiPlan } from '../../capabilities/index.ts';
import { AirlockError } from '../../errors.ts';
import { wasm } from '../../engines/wasm/definition.ts';
import { createInstance, runCall, WasmEngine, type InstantiateFn, type LiveInstance } from '../../engines/wasm/index.ts';
import { transpileComponent } from '../../engines/wasm/transpile.ts';
import { Wasm, type WasmModule } from '../../wasm-api.ts';
import type { Grants } from '../../grants/types.ts';
import { heapBytes, residentBytes } from '../memory.ts';
import { componentOf, withInstances, type OpenOptions, type PluginSetup, type Session, type Target, type TargetBudgets } from '../target.ts';

const FAST: TargetBudgets = { warmup: 200, latency: { samples: 5000, ms: 400 }, throughput: { samples: 50_000, ms: 300 }, maxInstances: 4 };

/** Instances of a component in this thread: transpiled by the engine's own step, no worker, no isolation. */
export interface InThreadPlugin {
  grants: Grants;
  instances: LiveInstance[];
  /** One more instance of the same compiled modules (not added to `instances`). */
  newInstance(): LiveInstance;
  /** Runs one call on instance `i`; throws on a tool error or a trap. */
  call(tool: string, input: string, i?: number): string;
}

/** `cacheRoot`: an Airlock cache root to transpile into instead of the default one. */
export async function loadInThread(grants: Grants, component: string, instances = 1, cacheRoot?: string): Promise<InThreadPlugin> {
  const t = await transpileComponent(component, cacheRoot === undefined ? {} : { cacheRoot: join(cacheRoot, 'transpiled') });
  const modules: Record<string, WasmModule> = {};
  for (const [n, b] of Object.entries(t.modules)) modules[n] = await Wasm.compile(prepareCoreModule(grants, b, n));
  const { instantiate } = (await import(pathToFileURL(t.glue).href)) as { instantiate: InstantiateFn };
  const wasi = await loadWasi(grants, wasiPlan(t.imports));
  const newInstance = (): LiveInstance => createInstance(instantiate, modules, wasi);
  const live = Array.from({ length: instances }, newInstance);
  return {
    grants,
    instances: live,
    newInstance,
    call(tool, input, i = 0) {
      const r = runCall(live[i % live.length]!, grants, tool, input).response;
      if (r.kind !== 'ok') throw new AirlockError(r.error.code, r.error.message);
      return r.output;
    },
  };
}

export const inThreadTarget: Target = {
  name: 'in-thread',
  label: 'in-thread call (no isolation)',
  kind: 'baseline',
  form: 'component',
  budgets: FAST,
  unavailable: async () => undefined,
  async open(setup: PluginSetup, options: OpenOptions): Promise<Session> {
    const before = options.memory === true ? heapBytes() : 0;
    const p = await loadInThread(setup.grants, componentOf(setup), options.instances, options.cacheRoot);
    let next = 0;
    return {
      // Synchronous underneath: concurrent lanes take turns, as callers of one thread would.
      call: async (tool, input) => p.call(tool, input, next++),
      // JS heap added by the instances (their glue's objects) plus their linear memories.
      memoryPerInstance: async () =>
        options.memory === true
          ? (heapBytes() - before + p.instances.reduce((sum, i) => sum + i.memories.reduce((m, mem) => m + mem.buffer.byteLength, 0), 0)) / options.instances
          : undefined,
      close: async () => {
        for (const i of p.instances.splice(0)) i.release();
      },
    };
  },
};

export const workerTarget: Target = {
  name: 'worker',
  label: 'worker engine (jco, worker threads)',
  kind: 'engine',
  engine: wasm.name,
  form: 'component',
  budgets: FAST,
  unavailable: async () => undefined,
  async open(setup: PluginSetup, options: OpenOptions): Promise<Session> {
    // Worker heaps and their linear memories are not visible from this thread: the process's resident memory is.
    const before = options.memory === true ? residentBytes() : 0;
    // A fresh engine per session: nothing carried over from an earlier session in this process.
    const { cacheRoot } = options;
    const engine = new WasmEngine(cacheRoot === undefined ? {} : { transpile: (c) => transpileComponent(c, { cacheRoot: join(cacheRoot, 'transpiled') }) });
    const plugin = await engine.load(withInstances(setup.grants, options.instances), { kind: 'component', path: componentOf(setup) });
    return {
      call: async (tool, input, signal) => (await plugin.call(tool, input, { signal })).output,
      memoryPerInstance: async () => (options.memory === true ? (residentBytes() - before) / options.instances : undefined),
      close: () => engine.close(),
    };
  },
};
