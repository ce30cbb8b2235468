import type { Capability } from '../types.ts';
import { randomDocker } from './docker.ts';
import { randomWasmtime } from './wasmtime.ts';
import { randomWasi } from './wasi.ts';

export { RANDOM_BYTES_PER_CALL, RandomBudgetError, randomWasi } from './wasi.ts';

export const random: Capability = { name: 'random', wasi: randomWasi, wasmtime: randomWasmtime, docker: randomDocker };
