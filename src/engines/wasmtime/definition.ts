/**
 * The wasmtime CLI engine as the registry sees it: available when its binary
 * answers `--version`; refuses grants its command line cannot express
 * exactly (./flags.ts), so the selector passes it over for those.
 */
import { defineEngine, type EngineProbe } from '../engine.ts';
import { lazyModule } from '../../lazy.ts';
import { probeWasmtime } from './locate.ts';

/** The flags (every capability's wasmtime part), loaded by the first refusal asked for, not by the registry. */
const flags = lazyModule<typeof import('./flags.ts')>(import.meta.url, './flags');

export async function probeWasmtimeEngine(env: NodeJS.ProcessEnv = process.env): Promise<EngineProbe> {
  const p = await probeWasmtime(env);
  return {
    engine: 'wasmtime',
    available: p.available,
    ...(p.version === undefined ? {} : { version: p.version }),
    ...(p.path === undefined ? {} : { path: p.path }),
    ...(p.reason === undefined ? {} : { reason: p.reason }),
    ...(p.available ? {} : { installHint: p.installHint }),
  };
}

export const wasmtime = defineEngine({
  name: 'wasmtime',
  label: 'wasmtime',
  strength: 'runs the component',
  artefact: 'component',
  runtimes: [],
  builtin: false,
  probe: (options = {}) => probeWasmtimeEngine(options.env),
  refusals: (grants) => flags().wasmtimeRefusals(grants),
  create: async () => {
    const { WasmtimeEngine } = await import('./engine.ts');
    return new WasmtimeEngine();
  },
});
