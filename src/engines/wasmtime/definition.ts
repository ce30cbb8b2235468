/**
 * The wasmtime CLI engine as the registry sees it: available when its binary
 * answers `--version`; refuses grants its command line cannot express
 * exactly (./flags.ts), so the selector passes it over for those.
 */
import { defineEngine, type EngineProbe } from '../engine.ts';
import { wasmtimeRefusals } from './flags.ts';
import { probeWasmtime } from './locate.ts';

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
  refusals: (grants) => wasmtimeRefusals(grants),
  create: async () => {
    const { WasmtimeEngine } = await import('./engine.ts');
    return new WasmtimeEngine();
  },
});
