/**
 * The refusal of a read-write grant on an engine that cannot bound writes
 * (Docker bind mounts, wasmtime's --dir): one message, naming the grant, the
 * limits it would break and the ways out.
 */
import type { FilesystemGrant, Grants } from '../../grants/types.ts';
import { formatSize } from '../../manifest/units.ts';

/** Why a read-write grant cannot be bounded on `engine`, and the two ways out. */
export function unboundedWrite(grants: Grants, fs: FilesystemGrant, engine: string, why: string): string {
  const r = grants.resources;
  return `filesystem: ${fs.hostPath} is granted read-write at ${fs.mount}, but ${engine} cannot hold the plugin to resources.disk (${formatSize(r.diskBytes)}) and resources.files (${r.files}) there (${why}). The worker engine enforces them (it runs the plugin's component: runtime wasm, or a wasm: entry beside node/python); otherwise make the grant read-only, or list ${engine.toLowerCase()} in unboundedWrites in the host policy to accept unbounded writes on ${engine}`;
}
