import type { Capability } from '../types.ts';
import { siblingModule } from '../module-url.ts';
import { randomDocker } from './docker.ts';
import { randomWasmtime } from './wasmtime.ts';

export const random: Capability = {
  name: 'random',
  worker: { interfaces: ['wasi:random/random', 'wasi:random/insecure', 'wasi:random/insecure-seed'], module: siblingModule(import.meta.url, './wasi') },
  wasmtime: randomWasmtime,
  docker: randomDocker,
};
