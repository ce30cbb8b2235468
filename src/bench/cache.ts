/**
 * "Without caches": Airlock's caches (transpiled glue, compiled .cwasm,
 * component builds) all live under cacheRoot(), read from
 * AIRLOCK_CACHE_DIR on every use, so pointing it at an empty folder for the
 * duration of a load makes that load do every step again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function withCacheRoot<T>(root: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (root === undefined) return fn();
  const saved = process.env.AIRLOCK_CACHE_DIR;
  process.env.AIRLOCK_CACHE_DIR = root;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.AIRLOCK_CACHE_DIR;
    else process.env.AIRLOCK_CACHE_DIR = saved;
  }
}

/** An empty folder for one uncached measure; remove it with the returned function. */
export function freshCacheRoot(): { root: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'airlock-bench-cache-'));
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
