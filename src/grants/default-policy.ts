/**
 * The default host policy (what a host without a policy grants), without
 * loading the schema when it can: the schema's output for it is remembered
 * in the cache by src/manifest/check-cache.ts (keyed by the schema's code)
 * the first time any process parses it, so a fresh `airlock call` loads no
 * zod on its main thread.
 */
import { recall } from '../manifest/check-cache.ts';
import { lazyModule } from '../lazy.ts';
import type { Policy } from './policy.ts';
import { DEFAULT_INPUT, DEFAULT_ORIGIN, resolvePolicyPaths } from './policy-paths.ts';

const policies = lazyModule<typeof import('./policy.ts')>(import.meta.url, './policy');

export function defaultPolicy(): Policy {
  const parsed = recall('policy', DEFAULT_INPUT);
  if (parsed === null || typeof parsed !== 'object' || !Array.isArray((parsed as Policy).filesystem)) return policies().defaultPolicy();
  return resolvePolicyPaths({ ...(parsed as Policy), baseDir: process.cwd(), origin: DEFAULT_ORIGIN });
}
