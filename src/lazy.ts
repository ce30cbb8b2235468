/**
 * A module loaded on its first use, synchronously: for a synchronous API
 * whose dependencies (zod, Ajv, yaml) a process may never need, so importing
 * Airlock loads only what it uses (issue 21). Node (≥ 22.12) `require()`s an
 * ES module that has no top-level await. `path` is relative to `base` (the
 * caller's import.meta.url) and has no extension: `.ts` from the sources,
 * `.js` once compiled. Callers name the module in a type too
 * (`typeof import(…)`), so the dependency stays visible to readers and to
 * test/architecture.test.ts.
 */
import { createRequire } from 'node:module';

export function lazyModule<T>(base: string, path: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= createRequire(base)(`${path}${base.endsWith('.ts') ? '.ts' : '.js'}`) as T);
}
