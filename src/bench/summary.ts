/** A cell's summary over its rounds, and its ratios to the in-thread baseline. */
import type { CellRound } from './cell.ts';
import type { BenchTool } from './plugins.ts';
import { spread, type Spread } from './stats.ts';

export interface CellSummary {
  coldCachedMs: Spread | undefined;
  loadUncachedMs: Spread | undefined;
  coldUncachedMs: Spread | undefined;
  latency: Record<BenchTool, { p50: Spread | undefined; p95: Spread | undefined; p99: Spread | undefined }>;
  throughput: Record<string, Spread | undefined>;
  memoryBytes: Spread | undefined;
  /** Median over median: this target's figure / the in-thread baseline's for the same plugin (latency: > 1 is slower; throughput: < 1 is fewer calls). */
  ratio: { echoP50?: number; hashP50?: number; throughput1?: number };
}

function ratio(a: Spread | undefined, b: Spread | undefined): number | undefined {
  return a === undefined || b === undefined || b.median === 0 ? undefined : a.median / b.median;
}

/** A cell's figures over its rounds: the median and range of each. */
export function summarize(rounds: CellRound[], concurrency: number[]): CellSummary {
  const lat = (tool: BenchTool) => ({
    p50: spread(rounds.map((r) => r.latency[tool].p50)),
    p95: spread(rounds.map((r) => r.latency[tool].p95)),
    p99: spread(rounds.map((r) => r.latency[tool].p99)),
  });
  return {
    coldCachedMs: spread(rounds.map((r) => r.coldCachedMs)),
    loadUncachedMs: spread(rounds.map((r) => r.loadUncachedMs)),
    coldUncachedMs: spread(rounds.map((r) => r.coldUncachedMs)),
    latency: { echo: lat('echo'), hash: lat('hash') },
    throughput: Object.fromEntries(concurrency.map((c) => [String(c), spread(rounds.map((r) => r.throughput[String(c)]))])),
    memoryBytes: spread(rounds.map((r) => r.memoryBytes)),
    ratio: {},
  };
}

/** Sets `cell`'s ratios to the in-thread baseline's summary of the same plugin (a ratio with no figure on either side is left out). */
export function addRatios(cell: CellSummary, base: CellSummary): void {
  const r = cell.ratio;
  const echo = ratio(cell.latency.echo.p50, base.latency.echo.p50);
  const hash = ratio(cell.latency.hash.p50, base.latency.hash.p50);
  const thr = ratio(cell.throughput['1'], base.throughput['1']);
  if (echo !== undefined) r.echoP50 = echo;
  if (hash !== undefined) r.hashP50 = hash;
  if (thr !== undefined) r.throughput1 = thr;
}
