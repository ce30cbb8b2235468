/**
 * Filesystem grants as WASI preopens: each granted host path at its mount,
 * through Airlock's enforcing layer (./preopens.ts). No grant: no preopens,
 * and that layer (ten modules, ~7 ms of a worker's start) is never loaded:
 * a guest without a preopen never holds a descriptor, so the interfaces are
 * empty classes it cannot reach. Read-write grants share the plugin's disk
 * quota (resources.disk and resources.files, ./quota.ts), counted in the
 * counters this capability's `open` made for the plugin
 * (ctx.shared.filesystem), one buffer every instance shares; without them an
 * instance counts alone.
 */
import { AirlockError } from '../../errors.ts';
import type { Grants } from '../../grants/types.ts';
import type { WasiContext, WasiImports, WasiPart } from '../types.ts';

interface Layer {
  createFilesystem: typeof import('./preopens.ts')['createFilesystem'];
  hasWrites: typeof import('./open.ts')['hasWrites'];
}

/** Loaded by the first grants with a filesystem grant in this thread. */
let layer: Layer | undefined;

/** The error code of a stream error the filesystem raised (none without a grant: the layer's errors carry it). */
const filesystemErrorCode = (err: { payload?: { code?: string } }): string | undefined => err?.payload?.code;

/** No grant: what jco's glue checks for, with nothing behind it. */
class Descriptor {}
class DirectoryEntryStream {}
const NO_FILESYSTEM: WasiImports = {
  'wasi:filesystem/types': { Descriptor, DirectoryEntryStream, filesystemErrorCode },
  'wasi:filesystem/preopens': { getDirectories: () => [] },
};

export function filesystemWasi(grants: Grants, ctx: WasiContext): WasiImports {
  if (grants.filesystem.length === 0) return NO_FILESYSTEM;
  if (layer === undefined) throw new AirlockError('internal', 'the filesystem worker part was not loaded for these grants');
  const r = grants.resources;
  const state = ctx.shared.filesystem;
  const quota = layer.hasWrites(grants) ? { bytes: r.diskBytes, files: r.files, ...(state instanceof SharedArrayBuffer ? { state } : {}) } : undefined;
  return layer.createFilesystem(grants.filesystem, ctx.base, ctx.onRelease, quota, ctx.call.files);
}

export const wasiPart: WasiPart = {
  async load(grants) {
    if (grants.filesystem.length === 0 || layer !== undefined) return;
    const [{ createFilesystem }, { hasWrites }] = await Promise.all([import('./preopens.ts'), import('./open.ts')]);
    layer = { createFilesystem, hasWrites };
  },
  wasi: filesystemWasi,
  // Zeroed in place: the descriptors of the instance hold this object (the call's file usage).
  beginCall: (_grants, call) => {
    if (call.files !== undefined) Object.assign(call.files, { reads: 0, readBytes: 0, writes: 0, writeBytes: 0 });
  },
};
