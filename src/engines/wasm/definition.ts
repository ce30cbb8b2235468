/**
 * The worker engine as the registry sees it: always available (it is Node
 * itself), refuses no grant (every capability has a WASI mapping), and the
 * lowest latency, so the selector prefers it for components.
 */
import { defineEngine, type EngineProbe } from '../engine.ts';
import { lazyModule } from '../../lazy.ts';

const standbys = lazyModule<typeof import('./standby.ts')>(import.meta.url, './standby');

export function probeWasm(): EngineProbe {
  return { engine: 'wasm', available: true, version: `node ${process.versions.node}`, path: process.execPath };
}

export const wasm = defineEngine({
  name: 'wasm',
  label: 'the worker engine',
  strength: 'has the lowest latency for components',
  artefact: 'component',
  runtimes: [],
  builtin: true,
  probe: async () => probeWasm(),
  refusals: () => [],
  // One blank worker thread starts while the host reads, builds and loads (./standby.ts prestart): at once
  // (the module is required, not imported: the caller may go on with synchronous work).
  warm: () => standbys().standby.prestart(),
  create: async (options = {}) => {
    const { WasmEngine } = await import('./index.ts');
    return new WasmEngine(options.onEvent === undefined ? {} : { onEvent: options.onEvent });
  },
});
