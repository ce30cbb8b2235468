/**
 * Cgroups for one build step (./sandbox.ts), when Airlock runs as root and
 * the host lets it make them: a pids limit (RLIMIT_NPROC never binds uid 0,
 * which the sandbox's uid maps to) and a memory limit on the whole step
 * (RLIMIT_DATA is per process). cgroup v1 (`pids`, `memory` hierarchies) or
 * v2 (one folder with both files); whatever cannot be made is skipped, and
 * the rlimits remain.
 */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';

export interface StepCgroups {
  /** Folders whose cgroup.procs the step joins before it starts. */
  dirs: string[];
  /** Whether a pids limit is in force. */
  pids: boolean;
  /** The limit the step went past, read after it ended. */
  hit(): 'processes' | 'memory' | null;
  remove(): Promise<void>;
}

/** How long a step's cgroup may stay busy after its processes exited before it is left behind. */
const REMOVE_BOUND_MS = 30_000;
const NONE: StepCgroups = { dirs: [], pids: false, hit: () => null, remove: async () => {} };

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Makes `<parent>/airlock-build-…` with `files` written, or returns null. */
function make(parent: string, files: Record<string, string>): string | null {
  const dir = `${parent.replace(/\/$/, '')}/airlock-build-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    mkdirSync(dir);
  } catch {
    return null;
  }
  try {
    for (const [f, v] of Object.entries(files)) writeFileSync(`${dir}/${f}`, v);
    return dir;
  } catch {
    try {
      rmdirSync(dir);
    } catch {
      // Left for the kernel's next cleanup: empty, no limit.
    }
    return null;
  }
}

export function stepCgroups(processes: number, memoryBytes: number): StepCgroups {
  if (process.getuid?.() !== 0) return NONE;
  const lines = read('/proc/self/cgroup').split('\n');
  const v1 = (ctl: string): string | undefined => {
    const l = lines.find((x) => x.split(':')[1]?.split(',').includes(ctl));
    return l === undefined ? undefined : `/sys/fs/cgroup/${ctl}${l.split(':').slice(2).join(':')}`;
  };
  let pids: string | null = null;
  let memory: string | null = null;
  let check: () => 'processes' | 'memory' | null;
  const pidsV1 = v1('pids');
  const memV1 = v1('memory');
  if (pidsV1 !== undefined || memV1 !== undefined) {
    if (pidsV1 !== undefined) pids = make(pidsV1, { 'pids.max': String(processes) });
    if (memV1 !== undefined) memory = make(memV1, { 'memory.limit_in_bytes': String(memoryBytes) });
    check = () => {
      if (pids !== null && /^max [1-9]/m.test(read(`${pids}/pids.events`))) return 'processes';
      if (memory !== null && /^oom_kill [1-9]/m.test(read(`${memory}/memory.oom_control`))) return 'memory';
      return null;
    };
  } else {
    const v2 = lines.find((l) => l.startsWith('0::'));
    const controllers = read('/sys/fs/cgroup/cgroup.controllers').split(/\s+/);
    if (v2 === undefined || !controllers.includes('pids')) return NONE;
    const dir = make(`/sys/fs/cgroup${v2.slice(3)}`, {
      'pids.max': String(processes),
      ...(controllers.includes('memory') ? { 'memory.max': String(memoryBytes) } : {}),
    });
    pids = dir;
    memory = controllers.includes('memory') ? dir : null;
    check = () => {
      if (pids !== null && /^max [1-9]/m.test(read(`${pids}/pids.events`))) return 'processes';
      if (memory !== null && /^oom_kill [1-9]/m.test(read(`${memory}/memory.events`))) return 'memory';
      return null;
    };
  }
  const dirs = [...new Set([pids, memory].filter((d): d is string => d !== null))];
  return {
    dirs,
    pids: pids !== null,
    hit: check,
    // The step's processes are gone once bwrap is (pid namespace), but the kernel may take a
    // moment to release a cgroup (longer on a busy machine; cgroup v1 has no event for it):
    // retried with backoff for up to REMOVE_BOUND_MS and awaited (an unref'd timer would leak it when the CLI exits).
    async remove() {
      for (const d of dirs) {
        const end = performance.now() + REMOVE_BOUND_MS;
        for (let wait = 10; ; wait = Math.min(wait * 2, 500)) {
          try {
            rmdirSync(d);
            break;
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === 'ENOENT' || performance.now() > end) break;
            await new Promise((r) => setTimeout(r, wait));
          }
        }
      }
    },
  };
}
