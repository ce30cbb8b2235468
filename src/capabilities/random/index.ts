import type { CallState, Capability } from '../types.ts';
import { randomDocker } from './docker.ts';
import { randomWasmtime } from './wasmtime.ts';
import { RANDOM_BYTES_PER_CALL, randomWasi } from './wasi.ts';

export { RANDOM_BYTES_PER_CALL, RandomBudgetError, randomWasi } from './wasi.ts';

/** Per call: the guest's random-byte budget starts afresh. */
function randomBeginCall(_grants: unknown, call: CallState): void {
  call.randomBytesLeft = RANDOM_BYTES_PER_CALL;
}

export const random: Capability = { name: 'random', beginCall: randomBeginCall, wasi: randomWasi, wasmtime: randomWasmtime, docker: randomDocker };
