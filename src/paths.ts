import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where Airlock keeps build outputs, transpiled components, compiled modules
 * and other content-addressed caches: `$AIRLOCK_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/airlock`, else `~/.cache/airlock`. Everything in it can be
 * deleted at any time; it is rebuilt on demand.
 */
export function cacheDir(...parts: string[]): string {
  const base =
    process.env.AIRLOCK_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'airlock');
  return join(base, ...parts);
}
