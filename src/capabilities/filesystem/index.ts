import type { Capability } from '../types.ts';
import { siblingModule } from '../module-url.ts';
import { filesystemDocker } from './docker.ts';
import { filesystemOpen } from './open.ts';
import { filesystemWasmtime } from './wasmtime.ts';

export { MAX_OPEN_FDS } from './fds.ts';

export const filesystem: Capability = {
  name: 'filesystem',
  open: filesystemOpen,
  worker: { interfaces: ['wasi:filesystem/types', 'wasi:filesystem/preopens'], module: siblingModule(import.meta.url, './wasi') },
  wasmtime: filesystemWasmtime,
  docker: filesystemDocker,
};
