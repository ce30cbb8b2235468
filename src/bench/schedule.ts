/**
 * Interleaved rounds: every round visits every (target, plugin) cell once,
 * starting one cell further on each round. A slow minute on a shared machine
 * then lands on different cells in different rounds, and the median over
 * rounds sees through it, where running each cell's rounds back to back
 * would pin the whole slowdown on one cell.
 */
export interface Slot<T> {
  /** 0-based round. */
  round: number;
  item: T;
}

export function interleave<T>(items: readonly T[], rounds: number): Slot<T>[] {
  const out: Slot<T>[] = [];
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < items.length; i++) out.push({ round, item: items[(i + round) % items.length]! });
  }
  return out;
}
