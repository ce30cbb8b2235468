import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AirlockError } from './errors.ts';

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
 * precompiled native .cwasm, the wasmtime binary), and its seals
 * (cache-integrity.ts) catch corruption, not a forged entry with a matching
 * seal. So the root must be the user's own and closed to everyone else:
 * created mode 0700; an existing root is checked once per process (per root
 * path; see secureCacheRoot).
 */
export function cacheDir(...parts: string[]): string {
  const base = cacheRoot();
  if (!ensured.has(base)) {
    let made = true;
    try {
      mkdirSync(base, { recursive: true, mode: 0o700 });
    } catch {
      // Unwritable (read-only home, …): the caller's own write into it fails with the real reason.
      made = false;
    }
    if (made) {
      secureCacheRoot(base);
      ensured.add(base);
    }
  }
  return join(base, ...parts);
}

/**
 * An existing cache root that another user owns, or that group or others may
 * write to, is refused: someone else could have planted or can replace what
 * the host runs, and emptying it is the only repair that removes what they
 * wrote. One of the user's own that others may only read or enter (0755, as
 * another tool may have made it) is repaired to 0700: nobody else could have
 * written into it.
 */
export function secureCacheRoot(root: string): void {
  const uid = process.getuid?.();
  if (uid === undefined) return; // Windows: no POSIX owner or mode to check
  const st = statSync(root);
  const mode = `0${(st.mode & 0o777).toString(8)}`;
  const fix = `remove it (rm -rf ${root}: it is only a cache) or set AIRLOCK_CACHE_DIR to a folder of your own; Airlock creates it mode 0700`;
  if (!st.isDirectory()) throw new AirlockError('permission-denied', `the cache root ${root} is not a folder; ${fix}`, { details: { path: root } });
  if (st.uid !== uid) {
    throw new AirlockError(
      'permission-denied',
      `the cache root ${root} is owned by uid ${st.uid}, not by this user (uid ${uid}), mode ${mode}: its owner could plant code Airlock runs; ${fix}`,
      {
        details: { path: root, uid: st.uid, mode },
      },
    );
  }
  if ((st.mode & 0o022) !== 0) {
    throw new AirlockError(
      'permission-denied',
      `the cache root ${root} is mode ${mode}: group or other users may write into it and plant code Airlock runs; ${fix}`,
      {
        details: { path: root, uid: st.uid, mode },
      },
    );
  }
  if ((st.mode & 0o077) !== 0) chmodSync(root, 0o700);
}
