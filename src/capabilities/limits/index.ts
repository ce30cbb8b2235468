import type { Capability } from '../types.ts';
import { capMemory } from './memory.ts';
import { lazyFunction, lazyModule } from '../../lazy.ts';

export { capMemory, definedMemories, WASM_PAGE, type MemoryLimits } from './memory.ts';

// Docker's and wasmtime's parts load on their first use: a host that runs only components never loads them.
const dockerPart = lazyModule<typeof import('./docker.ts')>(import.meta.url, './docker');
const wasmtimePart = lazyModule<typeof import('./wasmtime.ts')>(import.meta.url, './wasmtime');

/**
 * resources.*: for wasm, the memory cap is written into each core module;
 * timeout, output, logs, queue and concurrency are enforced by the engine
 * itself (they are not WASI imports).
 */
export const limits: Capability = {
  name: 'limits',
  wasmtime: lazyFunction(() => wasmtimePart().limitsWasmtime),
  docker: lazyFunction(() => dockerPart().limitsDocker),
  coreModule: (grants, bytes, name) => capMemory(bytes, grants.resources.memoryBytes, name),
};
