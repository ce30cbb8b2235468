/**
 * Filesystem grants as WASI preopens: each granted host path at its mount,
 * through Airlock's enforcing layer (./descriptor.ts). No grant: no preopens.
 */
import type { Grants } from '../../grants/types.ts';
import type { WasiContext, WasiImports } from '../types.ts';
import { createFilesystem } from './descriptor.ts';

export function filesystemWasi(grants: Grants, ctx: WasiContext): WasiImports {
  return createFilesystem(grants.filesystem, ctx.base, ctx.onRelease);
}
