/**
 * Filesystem grants as `wasmtime run --dir HOST::GUEST`. The CLI's `--dir`
 * always grants full read-write access; there is no read-only form
 * (https://github.com/bytecodealliance/wasmtime/issues/9608). So a read
 * grant is refused rather than widened to read-write.
 *
 * HOST is not the granted path itself: each call is a new process that opens
 * HOST by name, and the CLI follows symlinks, so a folder swapped for a
 * symlink after the grants were computed would mount the link's target. HOST
 * is `/proc/<airlock pid>/fd/<n>` instead, an fd of the granted folder opened
 * without following any symlink (./verify.ts): every call gets that very
 * folder, whatever happens to its path later.
 *
 * `--dir` has no size limit either, so a read-write grant is refused too
 * (resources.disk and resources.files could not hold) unless the host policy
 * lists wasmtime in `unboundedWrites`; the selector then runs the plugin on
 * the worker engine, which enforces the quota.
 */
import { unboundedWrite } from './unbounded.ts';
import type { WasmtimeContribution } from '../types.ts';
import type { Grants } from '../../grants/types.ts';
import { exists, pinnedGrantPath } from './verify.ts';

export function filesystemWasmtime(grants: Grants): WasmtimeContribution {
  const args: string[] = [];
  const refuse: string[] = [];
  for (const fs of grants.filesystem) {
    if (fs.access !== 'read-write') {
      refuse.push(
        `filesystem: ${fs.hostPath} is granted read-only at ${fs.mount}, but wasmtime's --dir always grants read-write (wasmtime#9608); use the worker engine (engine: wasm)`,
      );
      continue;
    }
    if (grants.unboundedWrites?.includes('wasmtime') !== true) {
      refuse.push(unboundedWrite(grants, fs, 'wasmtime', '--dir has no size limit'));
      continue;
    }
    // The CLI splits the value on `::`; a path containing it would mount something else.
    if (fs.hostPath.includes('::') || fs.mount.includes('::')) {
      refuse.push(`filesystem: ${fs.hostPath} -> ${fs.mount} contains "::", which wasmtime's --dir HOST::GUEST cannot express`);
      continue;
    }
    // A path missing now cannot be pinned; the CLI then fails to open it at each call (fails closed).
    // Present but swapped: pinnedGrantPath throws permission-denied.
    args.push('--dir', `${exists(fs.hostPath) ? pinnedGrantPath(fs) : fs.hostPath}::${fs.mount}`);
  }
  return { args, refuse };
}
