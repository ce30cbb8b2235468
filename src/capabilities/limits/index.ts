import type { Capability } from '../types.ts';
import { limitsDocker } from './docker.ts';
import { limitsWasmtime } from './wasmtime.ts';
import { capMemory } from './memory.ts';

export { capMemory, definedMemories, WASM_PAGE, type MemoryLimits } from './memory.ts';

/**
 * resources.*: for wasm, the memory cap is written into each core module;
 * timeout, output, logs, queue and concurrency are enforced by the engine
 * itself (they are not WASI imports).
 */
export const limits: Capability = {
  name: 'limits',
  wasmtime: limitsWasmtime,
  docker: limitsDocker,
  coreModule: (grants, bytes, name) => capMemory(bytes, grants.resources.memoryBytes, name),
};
