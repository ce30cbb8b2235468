/**
 * Filesystem grants as WASI preopens: each granted host path at its mount,
 * through Airlock's enforcing layer (./preopens.ts). No grant: no preopens.
 * Read-write grants share the plugin's disk quota (resources.disk and
 * resources.files, ./quota.ts), counted in the counters this capability's
 * `open` made for the plugin (ctx.shared.filesystem), one buffer every
 * instance shares; without them an instance counts alone.
 */
import type { Grants } from '../../grants/types.ts';
import type { WasiContext, WasiImports, WasiPart } from '../types.ts';
import { hasWrites } from './open.ts';
import { createFilesystem } from './preopens.ts';

export function filesystemWasi(grants: Grants, ctx: WasiContext): WasiImports {
  const r = grants.resources;
  const state = ctx.shared.filesystem;
  const quota = hasWrites(grants) ? { bytes: r.diskBytes, files: r.files, ...(state instanceof SharedArrayBuffer ? { state } : {}) } : undefined;
  return createFilesystem(grants.filesystem, ctx.base, ctx.onRelease, quota, ctx.call.files);
}

export const wasiPart: WasiPart = {
  wasi: filesystemWasi,
  // Zeroed in place: the descriptors of the instance hold this object (the call's file usage).
  beginCall: (_grants, call) => {
    if (call.files !== undefined) Object.assign(call.files, { reads: 0, readBytes: 0, writes: 0, writeBytes: 0 });
  },
};
