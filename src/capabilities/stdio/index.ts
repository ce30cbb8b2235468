import type { Capability } from '../types.ts';
import { stdioDocker } from './docker.ts';
import { stdioWasmtime } from './wasmtime.ts';
import { stdioWasi } from './wasi.ts';

export { LogCapture, TRUNCATION_MARKER } from './capture.ts';
export { stdioWasi } from './wasi.ts';

export const stdio: Capability = { name: 'stdio', wasi: stdioWasi, wasmtime: stdioWasmtime, docker: stdioDocker };
