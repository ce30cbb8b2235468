import type { Capability } from '../types.ts';
import { siblingModule } from '../module-url.ts';
import { lazyFunction, lazyModule } from '../../lazy.ts';

// Docker's and wasmtime's parts load on their first use: a host that runs only components never loads them.
const dockerPart = lazyModule<typeof import('./docker.ts')>(import.meta.url, './docker');
const wasmtimePart = lazyModule<typeof import('./wasmtime.ts')>(import.meta.url, './wasmtime');

export const random: Capability = {
  name: 'random',
  worker: { interfaces: ['wasi:random/random', 'wasi:random/insecure', 'wasi:random/insecure-seed'], module: siblingModule(import.meta.url, './wasi') },
  wasmtime: lazyFunction(() => wasmtimePart().randomWasmtime),
  docker: lazyFunction(() => dockerPart().randomDocker),
};
