import type { CallState, Capability } from '../types.ts';
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
  // Zeroed in place: the descriptors of the instance hold this object.
  beginCall: (_grants, call: CallState) => {
    if (call.files !== undefined) Object.assign(call.files, { reads: 0, readBytes: 0, writes: 0, writeBytes: 0 });
  },
};
