/**
 * Random for wasmtime: `-S max-random-size` traps any single request larger
 * than the worker engine's per-call budget. The CLI bounds each request, not
 * their sum per call; the sum is bounded by the call's timeout instead.
 */
import type { WasmtimeContribution } from '../types.ts';
import type { Grants } from '../../grants/types.ts';
import { RANDOM_BYTES_PER_CALL } from './wasi.ts';

export function randomWasmtime(_grants: Grants): WasmtimeContribution {
  return { args: ['-S', `max-random-size=${RANDOM_BYTES_PER_CALL}`] };
}
