/**
 * Filesystem grants as WASI preopens: each granted host path at its mount,
 * through Airlock's enforcing layer (./preopens.ts). No grant: no preopens.
 * Read-write grants share the plugin's disk quota (resources.disk and
 * resources.files, ./quota.ts), counted in `ctx.diskQuota` when the engine
 * shares one across instances.
 */
import type { Grants } from '../../grants/types.ts';
import type { WasiContext, WasiImports } from '../types.ts';
import { createFilesystem } from './preopens.ts';

export function filesystemWasi(grants: Grants, ctx: WasiContext): WasiImports {
  const r = grants.resources;
  const quota = grants.filesystem.some((g) => g.access === 'read-write')
    ? { bytes: r.diskBytes, files: r.files, ...(ctx.diskQuota === undefined ? {} : { state: ctx.diskQuota }) }
    : undefined;
  return createFilesystem(grants.filesystem, ctx.base, ctx.onRelease, quota);
}
