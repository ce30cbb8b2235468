import type { Capability } from '../types.ts';
import { siblingModule } from '../module-url.ts';
import { filesystemOpen } from './open.ts';
import { lazyFunction, lazyModule } from '../../lazy.ts';

export { MAX_OPEN_FDS } from './fds.ts';

// Docker's and wasmtime's parts load on their first use: a host that runs only components never loads them.
const dockerPart = lazyModule<typeof import('./docker.ts')>(import.meta.url, './docker');
const wasmtimePart = lazyModule<typeof import('./wasmtime.ts')>(import.meta.url, './wasmtime');

export const filesystem: Capability = {
  name: 'filesystem',
  open: filesystemOpen,
  worker: { interfaces: ['wasi:filesystem/types', 'wasi:filesystem/preopens'], module: siblingModule(import.meta.url, './wasi') },
  wasmtime: lazyFunction(() => wasmtimePart().filesystemWasmtime),
  docker: lazyFunction(() => dockerPart().filesystemDocker),
};
