/**
 * Per plugin, on the host: the disk-quota counters every instance of the
 * plugin shares (only with a read-write grant), one SharedArrayBuffer that
 * reaches each worker as ctx.shared.filesystem (./wasi.ts).
 */
import type { Grants } from '../../grants/types.ts';
import type { OpenedCapability } from '../types.ts';
import { createQuotaState, releaseQuotaLock } from './quota.ts';

export const hasWrites = (grants: Grants): boolean => grants.filesystem.some((g) => g.access === 'read-write');

export async function filesystemOpen(grants: Grants): Promise<OpenedCapability | undefined> {
  if (!hasWrites(grants)) return undefined;
  const state = createQuotaState();
  // A thread killed inside a filesystem call (timeout, abort) may hold the quota lock: free it.
  return { shared: state, instanceGone: (threadId) => releaseQuotaLock(state, threadId) };
}
