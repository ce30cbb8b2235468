/**
 * resources.* for wasmtime: `-W max-memory-size` caps each linear memory and
 * `trap-on-grow-failure` turns a refused grow into a trap the engine reports
 * as `memory-limit` (otherwise the guest sees a failed malloc and aborts, which
 * would look like any other trap). `-W timeout` interrupts the guest via epoch
 * interruption; the engine also kills the process as a last resort.
 * `-S max-resources` bounds WASI resources (streams, descriptors) per guest.
 * Output, logs, concurrency and queue are enforced by the engine.
 */
import type { WasmtimeContribution } from '../types.ts';
import type { Grants } from '../../grants/types.ts';

export const WASMTIME_MAX_RESOURCES = 10_000;

export function limitsWasmtime(grants: Grants): WasmtimeContribution {
  const r = grants.resources;
  return {
    args: [
      '-W',
      `max-memory-size=${Math.floor(r.memoryBytes)}`,
      '-W',
      'trap-on-grow-failure=y',
      '-W',
      `timeout=${Math.max(1, Math.ceil(r.timeoutMs))}ms`,
      '-S',
      `max-resources=${WASMTIME_MAX_RESOURCES}`,
    ],
  };
}
