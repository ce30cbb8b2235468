import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The cache's root: `$AIRLOCK_CACHE_DIR`, else `$XDG_CACHE_HOME/airlock`,
 * else `~/.cache/airlock`. Pure: nothing is created.
 */
export function cacheRoot(): string {
  return process.env.AIRLOCK_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'airlock');
}

const ensured = new Set<string>();

/**
 * Where Airlock keeps build outputs, transpiled components, compiled modules
 * and other content-addressed caches (see cacheRoot). Everything in it can be
 * deleted at any time; it is rebuilt on demand.
 *
 * The cache holds code the host runs (transpiled glue imported into workers,
 * precompiled native .cwasm, the wasmtime binary), so its root is created
 * mode 0700: no other local user may read or replace what is in it,
 * whatever mode the folders created below it get. An existing root keeps
 * its mode (it may be shared on purpose).
 */
export function cacheDir(...parts: string[]): string {
  const base = cacheRoot();
  if (!ensured.has(base)) {
    try {
      mkdirSync(base, { recursive: true, mode: 0o700 });
      ensured.add(base);
    } catch {
      // Unwritable (read-only home, …): the caller's own write into it fails with the real reason.
    }
  }
  return join(base, ...parts);
}
