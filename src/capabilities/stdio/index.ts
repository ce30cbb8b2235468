import type { Capability } from '../types.ts';
import { siblingModule } from '../module-url.ts';
import { lazyFunction, lazyModule } from '../../lazy.ts';

export { LogCapture, TRUNCATION_MARKER } from './capture.ts';

// Docker's and wasmtime's parts load on their first use: a host that runs only components never loads them.
const dockerPart = lazyModule<typeof import('./docker.ts')>(import.meta.url, './docker');
const wasmtimePart = lazyModule<typeof import('./wasmtime.ts')>(import.meta.url, './wasmtime');

export const stdio: Capability = {
  name: 'stdio',
  worker: {
    interfaces: ['wasi:cli/stdout', 'wasi:cli/stderr', 'wasi:cli/stdin', 'wasi:cli/terminal-stdin', 'wasi:cli/terminal-stdout', 'wasi:cli/terminal-stderr'],
    module: siblingModule(import.meta.url, './wasi'),
  },
  wasmtime: lazyFunction(() => wasmtimePart().stdioWasmtime),
  docker: lazyFunction(() => dockerPart().stdioDocker),
};
