import type { Grants } from '../../grants/types.ts';
import type { CallState, Capability } from '../types.ts';
import { LogCapture } from './capture.ts';
import { stdioDocker } from './docker.ts';
import { stdioWasmtime } from './wasmtime.ts';
import { stdioWasi } from './wasi.ts';

export { LogCapture, TRUNCATION_MARKER } from './capture.ts';
export { stdioWasi } from './wasi.ts';

/** Per call: fresh logs, capped at resources.logBytes. */
function stdioBeginCall(grants: Grants, call: CallState): void {
  call.logs = new LogCapture(grants.resources.logBytes);
}

export const stdio: Capability = { name: 'stdio', beginCall: stdioBeginCall, wasi: stdioWasi, wasmtime: stdioWasmtime, docker: stdioDocker };
