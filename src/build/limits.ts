/**
 * The limits every build step that touches plugin code runs under (clang,
 * componentize-js, componentize-py, the core-module wrap and the export
 * check; see ./sandbox.ts). One place: defaults here, each overridable by an
 * environment variable that the error for a hit limit names.
 *
 * Memory is RLIMIT_DATA, not RLIMIT_AS: V8 and wasmtime reserve many GiB of
 * address space up front (the V8 heap cage, 8 GiB guard regions per wasm
 * memory) as PROT_NONE mappings, so any useful RLIMIT_AS kills node and
 * componentize-py at start-up, while RLIMIT_DATA counts only private writable
 * mappings, i.e. memory the step can actually fill. It is per process; the
 * process limit bounds the total.
 */
import { AirlockError } from '../errors.ts';

export interface BuildLimits {
  /** RLIMIT_DATA of each process, MiB. */
  memoryMiB: number;
  /** RLIMIT_CPU of each process, seconds. */
  cpuSeconds: number;
  /** Wall time of the step; the whole sandbox is killed past it, seconds. */
  wallSeconds: number;
  /** Processes and threads of the step (pids cgroup as root, RLIMIT_NPROC otherwise). */
  processes: number;
  /** RLIMIT_FSIZE: the largest file the step may write (the output, a temp file), MiB. */
  fileMiB: number;
  /** Size of the sandbox's /tmp (a tmpfs, host memory), MiB. */
  tmpMiB: number;
  /** stdout and stderr kept from the step (the rest is dropped), KiB. */
  outputKiB: number;
}

export const LIMIT_ENV: Record<keyof BuildLimits, string> = {
  memoryMiB: 'AIRLOCK_BUILD_MEMORY_MB',
  cpuSeconds: 'AIRLOCK_BUILD_CPU_SECONDS',
  // The same variable as the Docker engine's image-build timeout (src/engines/docker/config.ts).
  wallSeconds: 'AIRLOCK_BUILD_TIMEOUT',
  processes: 'AIRLOCK_BUILD_PROCESSES',
  fileMiB: 'AIRLOCK_BUILD_FILE_MB',
  tmpMiB: 'AIRLOCK_BUILD_TMP_MB',
  outputKiB: 'AIRLOCK_BUILD_OUTPUT_KB',
};

/**
 * Measured on echo-js/echo-py: componentize-js peaks near 1 GiB, componentize-py
 * near 500 MiB and 6 s of CPU on a 2-core machine, wasmtime's compile threads
 * are one per core. The defaults leave several times that.
 */
export const DEFAULT_BUILD_LIMITS: Readonly<BuildLimits> = {
  memoryMiB: 4096,
  cpuSeconds: 600,
  wallSeconds: 600,
  processes: 512,
  fileMiB: 256,
  tmpMiB: 512,
  outputKiB: 1024,
};

/** The limits in force: the defaults, each overridden by its environment variable. */
export function buildLimits(env: NodeJS.ProcessEnv = process.env): BuildLimits {
  const limits = { ...DEFAULT_BUILD_LIMITS };
  for (const key of Object.keys(LIMIT_ENV) as (keyof BuildLimits)[]) {
    const text = env[LIMIT_ENV[key]];
    if (text === undefined || text === '') continue;
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new AirlockError(
        'build-failed',
        `${LIMIT_ENV[key]}=${text}: not a positive whole number; set it to one, or unset it for the default ${DEFAULT_BUILD_LIMITS[key]}`,
        { details: { file: LIMIT_ENV[key] } },
      );
    }
    limits[key] = n;
  }
  return limits;
}
