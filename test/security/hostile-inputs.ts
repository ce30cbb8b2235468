/** The hostile values shared by the hostile-data test and test/bench/hostile.ts. */

/** Almost matches `^(a+)+$`: a backtracking engine tries 2^n splits before giving up. */
export const REDOS_TEXT = `${'a'.repeat(100_000)}!`;

/**
 * Distinct objects under `uniqueItems: true`: Ajv compares every pair, so
 * 60 000 items (about 700 KB, under the default 1Mi output cap) are 1.8·10^9
 * deep comparisons, far past hostile-schema's 3 s timeout.
 */
export const BOMB_ITEMS = Array.from({ length: 60_000 }, (_, i) => ({ a: i }));
