/**
 * Stdio for wasmtime: stdin is empty (not inherited); stdout and stderr go to
 * the pipes the engine reads, where it cuts them at resources.logs and
 * separates the printed result from the guest's own stdout.
 */
import type { WasmtimeContribution } from '../types.ts';
import type { Grants } from '../../grants/types.ts';

export function stdioWasmtime(_grants: Grants): WasmtimeContribution {
  return { args: ['-S', 'inherit-stdin=n'] };
}
