import type { Capability } from '../types.ts';
import { siblingModule } from '../module-url.ts';
import { envDocker } from './docker.ts';
import { envWasmtime } from './wasmtime.ts';

export const env: Capability = {
  name: 'env',
  worker: { interfaces: ['wasi:cli/environment', 'wasi:cli/exit'], module: siblingModule(import.meta.url, './wasi') },
  wasmtime: envWasmtime,
  docker: envDocker,
};
