/**
 * The one timing loop: sequential calls, each timed on its own, until the
 * budget's sample count or time runs out (at least `min` samples). The
 * harness and the focused benchmark scripts (test/bench/wasm.ts,
 * test/mcp/bench.ts) all measure latency with it.
 */
import { AirlockError } from '../errors.ts';
import type { Budget } from './target.ts';

/** Stops a benchmark step when the run was aborted (Ctrl-C). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new AirlockError('aborted', 'the benchmark was aborted');
}

export async function sampleLatency(call: () => unknown, budget: Budget, options: { min?: number; signal?: AbortSignal } = {}): Promise<number[]> {
  const min = Math.min(options.min ?? 3, budget.samples);
  const samples: number[] = [];
  const end = performance.now() + budget.ms;
  while (samples.length < budget.samples && (samples.length < min || performance.now() < end)) {
    throwIfAborted(options.signal);
    const t0 = performance.now();
    await call();
    samples.push(performance.now() - t0);
  }
  return samples;
}
