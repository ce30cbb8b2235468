/**
 * Filesystem grants as `wasmtime run --dir HOST::GUEST`. The CLI's `--dir`
 * always grants full read-write access; there is no read-only form
 * (https://github.com/bytecodealliance/wasmtime/issues/9608). So a read
 * grant is refused rather than widened to read-write.
 */
import type { WasmtimeFlags } from '../../engines/wasmtime/flags.ts';
import type { Grants } from '../../grants/types.ts';

export function filesystemWasmtime(grants: Grants): WasmtimeFlags {
  const args: string[] = [];
  const refuse: string[] = [];
  for (const fs of grants.filesystem) {
    if (fs.access !== 'read-write') {
      refuse.push(
        `filesystem: ${fs.hostPath} is granted read-only at ${fs.mount}, but wasmtime's --dir always grants read-write (wasmtime#9608); use the worker engine (engine: wasm)`,
      );
      continue;
    }
    // The CLI splits the value on `::`; a path containing it would mount something else.
    if (fs.hostPath.includes('::') || fs.mount.includes('::')) {
      refuse.push(`filesystem: ${fs.hostPath} -> ${fs.mount} contains "::", which wasmtime's --dir HOST::GUEST cannot express`);
      continue;
    }
    args.push('--dir', `${fs.hostPath}::${fs.mount}`);
  }
  return { args, refuse };
}
