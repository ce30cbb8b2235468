/**
 * "Without caches": an empty cache root per measure. The in-process targets
 * and builds take it as an option; the wasmtime engine finds its .cwasm
 * cache through cacheRoot(), which reads AIRLOCK_CACHE_DIR on every use,
 * so withCacheRoot points that at the empty folder for the duration of a
 * load (one benchmark per process at a time: see runBench).
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
