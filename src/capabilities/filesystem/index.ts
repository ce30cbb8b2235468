import type { Capability } from '../types.ts';
import { filesystemDocker } from './docker.ts';
import { filesystemWasmtime } from './wasmtime.ts';
import { filesystemOpen, filesystemWasi } from './wasi.ts';

export { filesystemWasi } from './wasi.ts';
export { MAX_OPEN_FDS } from './fds.ts';

export const filesystem: Capability = {
  name: 'filesystem',
  open: filesystemOpen,
  wasi: filesystemWasi,
  wasmtime: filesystemWasmtime,
  docker: filesystemDocker,
};
