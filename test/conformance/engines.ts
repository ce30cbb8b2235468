/**
 * The engines the conformance suite runs every case against. One entry per
 * engine: which fixture runtimes it runs, whether it is usable here, and how
 * it loads a plugin from its grants. The wasm engines also run a node or
 * python fixture's `wasm:` component; Docker runs node and python entries.
 */
import { DockerEngine } from '../../src/engines/docker/index.ts';
import { probeDocker } from '../../src/engines/probe.ts';
import { WasmEngine } from '../../src/engines/wasm/index.ts';
import { probeWasmtime, WasmtimeEngine } from '../../src/engines/wasmtime/index.ts';
import type { EngineName, EnginePlugin } from '../../src/engines/types.ts';
import type { Grants } from '../../src/grants/types.ts';
import { componentFor } from '../../src/host/provider.ts';
import type { External } from '../helpers/require.ts';
import { dockerSetupEnv } from './docker-env.ts';

export type Runtime = Grants['plugin']['runtime'];

export interface ConformanceEngine {
  name: EngineName;
  /** Fixture runtimes this engine runs (a wasm engine also runs a node/python fixture's `wasm:` component). */
  runtimes: readonly Runtime[];
  /** Set when the engine needs something outside Node: its tests skip loudly, or fail under AIRLOCK_REQUIRE_<X>=1. */
  external?: External;
  /** Undefined when usable here, else why not. */
  unavailable(): Promise<string | undefined>;
  /** Loads the plugin described by `grants` (grants.plugin.dir/entry name the fixture). */
  load(grants: Grants): Promise<EnginePlugin>;
  close(): Promise<void>;
}

async function component(grants: Grants): Promise<string> {
  const c = await componentFor(grants);
  if (c === undefined) throw new Error(`fixture ${grants.plugin.dir} has no component for a wasm engine`);
  return c;
}

function wasmEngine(): ConformanceEngine {
  const engine = new WasmEngine();
  return {
    name: 'wasm',
    runtimes: ['wasm'],
    unavailable: async () => undefined,
    load: async (grants) => engine.load(grants, await component(grants)),
    close: () => engine.close(),
  };
}

function wasmtimeEngine(): ConformanceEngine {
  const probe = probeWasmtime();
  const engine = probe.then((p) => new WasmtimeEngine({ probe: p }));
  return {
    name: 'wasmtime',
    runtimes: ['wasm'],
    external: 'wasmtime',
    unavailable: async () => {
      const p = await probe;
      return p.available ? undefined : `${p.reason ?? 'not found'}; ${p.installHint}`;
    },
    load: async (grants) => (await engine).load(grants, await component(grants)),
    close: async () => (await engine).close(),
  };
}

function dockerEngine(): ConformanceEngine {
  dockerSetupEnv();
  const probe = probeDocker({ timeoutMs: 5000 });
  let engine: DockerEngine | undefined;
  return {
    name: 'docker',
    runtimes: ['node', 'python'],
    external: 'docker',
    unavailable: async () => {
      const p = await probe;
      return p.available ? undefined : `${p.reason ?? 'no Docker daemon'}; ${p.installHint ?? ''}`;
    },
    load: (grants) => {
      engine ??= new DockerEngine();
      return engine.load(grants);
    },
    close: async () => engine?.close(),
  };
}

export const ENGINES: readonly ConformanceEngine[] = [wasmEngine(), wasmtimeEngine(), dockerEngine()];

/** Whether `engine` runs this fixture: its runtime, or (a wasm engine) the component a node/python fixture ships. */
export function runsFixture(engine: ConformanceEngine, runtime: Runtime, hasComponent: boolean): boolean {
  return engine.runtimes.includes(runtime) || (hasComponent && engine.runtimes.includes('wasm'));
}
