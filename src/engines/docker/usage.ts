/**
 * A container's usage, from the daemon's cgroup figures (`stats`, one-shot:
 * no second sample is waited for), measured outside the container, so a
 * plugin cannot fake them. One container serves one call at a time: its CPU
 * time at the end of a call, less what it was at the end of the one before
 * (or at its start), is the call's. Peak memory is the container's
 * high-water mark (cgroup v1's max_usage); on cgroup v2 the daemon reports
 * none, and it is left out. File I/O is left out: the kernel counts block
 * I/O, not what a call wrote into the page cache.
 */
import type Docker from 'dockerode';
import type { EngineUsage } from '../types.ts';

/** CPU nanoseconds used so far and peak memory bytes (undefined: not reported), or undefined when the daemon gave no figures. */
export async function containerFigures(container: Docker.Container): Promise<{ cpuNs: number; memoryPeakBytes?: number } | undefined> {
  try {
    const stats = (await container.stats({ stream: false, 'one-shot': true } as { stream: false })) as Partial<Docker.ContainerStats>;
    const cpuNs = stats.cpu_stats?.cpu_usage?.total_usage;
    if (typeof cpuNs !== 'number') return undefined;
    const peak = stats.memory_stats?.max_usage;
    return { cpuNs, ...(typeof peak === 'number' && peak > 0 ? { memoryPeakBytes: peak } : {}) };
  } catch {
    // A container gone or a daemon not answering: the call's usage says what is unmeasured.
    return undefined;
  }
}

/** The call's usage from the figures at its end and the CPU time at its start. */
export function callUsage(end: { cpuNs: number; memoryPeakBytes?: number } | undefined, startCpuNs: number | undefined): EngineUsage {
  if (end === undefined) return {};
  return {
    ...(startCpuNs === undefined ? {} : { cpuMs: Math.max(0, end.cpuNs - startCpuNs) / 1e6 }),
    ...(end.memoryPeakBytes === undefined ? {} : { memoryPeakBytes: end.memoryPeakBytes }),
  };
}
