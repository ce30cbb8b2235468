import type { Capability } from '../types.ts';
import { siblingModule } from '../module-url.ts';
import { lazyFunction, lazyModule } from '../../lazy.ts';

// Docker's and wasmtime's parts load on their first use: a host that runs only components never loads them.
const dockerPart = lazyModule<typeof import('./docker.ts')>(import.meta.url, './docker');
const wasmtimePart = lazyModule<typeof import('./wasmtime.ts')>(import.meta.url, './wasmtime');

export const env: Capability = {
  name: 'env',
  worker: { interfaces: ['wasi:cli/environment', 'wasi:cli/exit'], module: siblingModule(import.meta.url, './wasi') },
  wasmtime: lazyFunction(() => wasmtimePart().envWasmtime),
  docker: lazyFunction(() => dockerPart().envDocker),
};
