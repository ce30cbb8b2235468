/**
 * Filesystem grants as WASI preopens: each granted host path at its mount,
 * through Airlock's enforcing layer (./preopens.ts). No grant: no preopens.
 * Read-write grants share the plugin's disk quota (resources.disk and
 * resources.files, ./quota.ts), counted in the counters this capability's
 * `open` made for the plugin (ctx.shared.filesystem), one buffer every
 * instance shares; without them an instance counts alone.
 */
import type { Grants } from '../../grants/types.ts';
import type { OpenedCapability, WasiContext, WasiImports } from '../types.ts';
import { createFilesystem } from './preopens.ts';
import { createQuotaState, releaseQuotaLock } from './quota.ts';

const hasWrites = (grants: Grants): boolean => grants.filesystem.some((g) => g.access === 'read-write');

/** Per plugin: the disk-quota counters every instance shares (only with a read-write grant). */
export async function filesystemOpen(grants: Grants): Promise<OpenedCapability | undefined> {
  if (!hasWrites(grants)) return undefined;
  const state = createQuotaState();
  // A thread killed inside a filesystem call (timeout, abort) may hold the quota lock: free it.
  return { shared: state, instanceGone: (threadId) => releaseQuotaLock(state, threadId) };
}

export function filesystemWasi(grants: Grants, ctx: WasiContext): WasiImports {
  const r = grants.resources;
  const state = ctx.shared.filesystem;
  const quota = hasWrites(grants) ? { bytes: r.diskBytes, files: r.files, ...(state instanceof SharedArrayBuffer ? { state } : {}) } : undefined;
  return createFilesystem(grants.filesystem, ctx.base, ctx.onRelease, quota, ctx.call.files);
}
