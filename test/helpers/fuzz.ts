/**
 * How hard the property tests (`*.property.test.ts`) search. Each property
 * names a modest default so `npm test` stays quick; `FC_NUM_RUNS=20000 npx ava
 * test/**\/*.property.test.ts` runs every property that many times (a deep run).
 * A failure prints fast-check's seed and path: pass them back through
 * `FC_SEED` and `FC_PATH` to replay exactly that counterexample.
 */
import type fc from 'fast-check';

/** fast-check parameters for one property whose default run count is `numRuns`. */
export function fuzz(numRuns: number): fc.Parameters<unknown> {
  const runs = Number(process.env.FC_NUM_RUNS);
  const seed = Number(process.env.FC_SEED);
  return {
    numRuns: Number.isInteger(runs) && runs > 0 ? runs : numRuns,
    // The property's own message (what it saw) in the failure report, beside the counterexample.
    includeErrorInReport: true,
    ...(Number.isInteger(seed) ? { seed } : {}),
    ...(process.env.FC_PATH !== undefined && process.env.FC_PATH !== '' ? { path: process.env.FC_PATH } : {}),
  };
}
