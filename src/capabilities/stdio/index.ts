import type { Capability } from '../types.ts';
import { siblingModule } from '../module-url.ts';
import { stdioDocker } from './docker.ts';
import { stdioWasmtime } from './wasmtime.ts';

export { LogCapture, TRUNCATION_MARKER } from './capture.ts';

export const stdio: Capability = {
  name: 'stdio',
  worker: {
    interfaces: ['wasi:cli/stdout', 'wasi:cli/stderr', 'wasi:cli/stdin', 'wasi:cli/terminal-stdin', 'wasi:cli/terminal-stdout', 'wasi:cli/terminal-stderr'],
    module: siblingModule(import.meta.url, './wasi'),
  },
  wasmtime: stdioWasmtime,
  docker: stdioDocker,
};
