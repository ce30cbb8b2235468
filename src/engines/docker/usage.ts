/**
 * A container's usage, from its cgroup's own files on this machine (the
 * daemon's `stats` endpoint waits for its next one-second sample, too slow
 * for every call), read outside the container, so a plugin cannot fake
 * them. One container serves one call at a time: its CPU time at the end of
 * a call, less what it was at the end of the one before (or at its start),
 * is the call's. Peak memory is the container's high-water mark (cgroup v1
 * `memory.max_usage_in_bytes`, v2 `memory.peak`). Only where the cgroup is
 * found and its path names the container (a remote daemon's are not here):
 * otherwise the figures are left out and the call's usage names them
 * unmeasured. File I/O is left out: the kernel counts block I/O, not what a
 * call wrote into the page cache.
 */
import { readFile } from 'node:fs/promises';
import type { EngineUsage } from '../types.ts';

export interface CgroupFiles {
  /** cpuacct.usage (nanoseconds) or cpu.stat (usage_usec). */
  cpu?: { file: string; kind: 'v1' | 'v2' };
  memoryPeak?: string;
}

const ROOT = '/sys/fs/cgroup';

/** The cgroup files of process `pid`, when its cgroup paths name container `id`. */
export async function cgroupFiles(pid: number, id: string): Promise<CgroupFiles | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  const files: CgroupFiles = {};
  for (const line of text.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    // A pid of another machine's (or namespace's) process is not this container.
    if (controllers === undefined || path === undefined || !path.includes(id)) continue;
    if (controllers === '') {
      files.cpu ??= { file: `${ROOT}${path}/cpu.stat`, kind: 'v2' };
      files.memoryPeak ??= `${ROOT}${path}/memory.peak`;
    } else {
      const names = controllers.split(',');
      if (names.includes('cpuacct')) files.cpu = { file: `${ROOT}/${controllers}${path}/cpuacct.usage`, kind: 'v1' };
      if (names.includes('memory')) files.memoryPeak = `${ROOT}/${controllers}${path}/memory.max_usage_in_bytes`;
    }
  }
  return files.cpu === undefined && files.memoryPeak === undefined ? undefined : files;
}

async function readNumber(file: string, key?: string): Promise<number | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    const value = key === undefined ? text.trim() : /^(\S+) (\d+)$/m.exec(text.split('\n').find((l) => l.startsWith(`${key} `)) ?? '')?.[2];
    const n = Number(value);
    return value === undefined || !Number.isFinite(n) ? undefined : n;
  } catch {
    return undefined;
  }
}

/** CPU nanoseconds used so far and peak memory bytes; a figure the files do not give is absent. */
export async function containerFigures(files: CgroupFiles | undefined): Promise<{ cpuNs?: number; memoryPeakBytes?: number }> {
  if (files === undefined) return {};
  const [cpu, peak] = await Promise.all([
    files.cpu === undefined ? undefined : files.cpu.kind === 'v1' ? readNumber(files.cpu.file) : readNumber(files.cpu.file, 'usage_usec'),
    files.memoryPeak === undefined ? undefined : readNumber(files.memoryPeak),
  ]);
  return {
    ...(cpu === undefined ? {} : { cpuNs: files.cpu?.kind === 'v2' ? cpu * 1000 : cpu }),
    ...(peak === undefined || peak <= 0 ? {} : { memoryPeakBytes: peak }),
  };
}

/** The call's usage from the figures at its end and the CPU time at its start. */
export function callUsage(end: { cpuNs?: number; memoryPeakBytes?: number }, startCpuNs: number | undefined): EngineUsage {
  return {
    ...(startCpuNs === undefined || end.cpuNs === undefined ? {} : { cpuMs: Math.max(0, end.cpuNs - startCpuNs) / 1e6 }),
    ...(end.memoryPeakBytes === undefined ? {} : { memoryPeakBytes: end.memoryPeakBytes }),
  };
}
