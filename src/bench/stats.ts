/**
 * Statistics for the benchmark: percentiles of one round's samples, and the
 * median with min–max over rounds (so a noisy round shows as a wide range,
 * not as a wrong figure).
 */

/** The p-th percentile (0–100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface LatencyStats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
}

export function latencyStats(samples: readonly number[]): LatencyStats {
  return { n: samples.length, p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99) };
}

/** The median; for an even count, the mean of the middle two. NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** One figure over rounds: the median and the range it came from. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Every round's value, in round order. */
  rounds: number[];
}

/** Undefined when no round has a value (a measure the target does not have). */
export function spread(values: readonly (number | undefined)[]): Spread | undefined {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x));
  if (v.length === 0) return undefined;
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), rounds: v };
}
