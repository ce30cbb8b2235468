import type { Capability } from '../types.ts';
import { envDocker } from './docker.ts';
import { envWasmtime } from './wasmtime.ts';
import { envWasi } from './wasi.ts';

export { envWasi, GuestExit } from './wasi.ts';

export const env: Capability = { name: 'env', wasi: envWasi, wasmtime: envWasmtime, docker: envDocker };
