/**
 * Every build step that reads or runs plugin code runs here: clang (a source
 * can `#include` or `.incbin` any host file), componentize-js and
 * componentize-py (they run the plugin's top-level code at build time to
 * pre-initialize it), and jco's export check and core-module wrap (a parser
 * fed hostile bytes). Each runs under bubblewrap: a fresh mount namespace with
 * only /usr and the paths the step names read-only, one output folder
 * writable, a size-bounded empty /tmp, no network (all namespaces unshared),
 * no capabilities, no host environment; and under the limits of ./limits.ts
 * (prlimit rlimits, pids and memory cgroups as root (./cgroups.ts), a
 * wall-clock kill, bounded output).
 *
 * Without bwrap such a step is refused, unless AIRLOCK_UNSANDBOXED_BUILDS=1
 * says the plugin is trusted (the limits still apply, where prlimit exists).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { stepCgroups } from './cgroups.ts';
import { AirlockError } from '../errors.ts';
import { buildLimits, LIMIT_ENV, type BuildLimits } from './limits.ts';
import { HeadTail } from '../spawn/head-tail.ts';

export interface SandboxMounts {
  /** Host paths visible read-only at the same path (missing ones are skipped). */
  readOnly: string[];
  /** Host paths visible read-write at the same path. */
  writable: string[];
  /** Working directory inside the sandbox. */
  cwd: string;
  /** The host's network: only for a step that runs no plugin code and must download (pip fetching wheels, cargo vendoring crates). */
  network?: boolean;
}

export interface SandboxOptions {
  env?: NodeJS.ProcessEnv;
  /** bwrap's path; null: none (default: found on PATH). */
  bwrap?: string | null;
  /** prlimit's path; null: none (default: found on PATH). */
  prlimit?: string | null;
  limits?: BuildLimits;
  /** Bound the process count with RLIMIT_NPROC (default: unless root, where the kernel ignores it; see ./cgroups.ts). */
  nproc?: boolean;
  /** Environment variables the step gets besides PATH and HOME (the host's environment never reaches it). */
  setenv?: Record<string, string>;
}

const found = new Map<string, string | null>();
/** The first executable file called `name` on this process's PATH (as `command -v` finds it, without spawning a shell). */
function onPath(name: string): string | null {
  if (!found.has(name)) found.set(name, findOnPath(name, process.env.PATH));
  return found.get(name) ?? null;
}

/** The first executable file called `name` in `path`'s folders; null when there is none. Empty entries are skipped. */
export function findOnPath(name: string, path: string | undefined): string | null {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here: the next folder.
    }
  }
  return null;
}

/** The PATH a sandboxed step's program is found on (the sandbox sees the host's /usr, not its PATH). */
const SANDBOX_PATH = '/usr/bin:/bin';

/** The PATH a build step's program is found on: the sandbox's, or env's when there is no bwrap (unsandboxed builds). */
export function stepPath(env: NodeJS.ProcessEnv = process.env): string {
  return onPath('bwrap') === null ? (env.PATH ?? '') : SANDBOX_PATH;
}

const MiB = 1024 * 1024;
const isRoot = (): boolean => process.getuid?.() === 0;

function prlimitArgs(limits: BuildLimits, nproc: boolean): string[] {
  return [
    `--data=${limits.memoryMiB * MiB}`,
    // Soft below hard: SIGXCPU (which names the limit) comes first; at equal values the kernel sends SIGKILL.
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 10}`,
    `--fsize=${limits.fileMiB * MiB}`,
    '--core=0',
    ...(nproc ? [`--nproc=${limits.processes}`] : []),
    '--',
  ];
}

/**
 * The command line that runs `file args` sandboxed and limited; `what` names
 * the step (the plugin file) for the error when no sandbox is available.
 */
export function sandboxed(file: string, args: string[], mounts: SandboxMounts, what: string, options: SandboxOptions = {}): { file: string; args: string[] } {
  const env = options.env ?? process.env;
  const limits = options.limits ?? buildLimits(env);
  const bw = options.bwrap === undefined ? onPath('bwrap') : options.bwrap;
  const pl = options.prlimit === undefined ? onPath('prlimit') : options.prlimit;
  // RLIMIT_NPROC never binds uid 0 (the sandbox's uid maps to it when Airlock runs as root).
  const limited = (f: string, a: string[]): { file: string; args: string[] } =>
    pl === null ? { file: f, args: a } : { file: pl, args: [...prlimitArgs(limits, options.nproc ?? !isRoot()), f, ...a] };
  if (bw === null) {
    if (env.AIRLOCK_UNSANDBOXED_BUILDS === '1') return limited(file, args);
    throw new AirlockError(
      'build-failed',
      `${what}: refusing to build the plugin's code without a sandbox (a compiler can read any host file into the component, and componentize-js/-py run the plugin's code at build time); install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap), ship a prebuilt component, or set AIRLOCK_UNSANDBOXED_BUILDS=1 for plugins you trust`,
      { details: { file: what } },
    );
  }
  if (pl === null) {
    throw new AirlockError('build-failed', `${what}: cannot limit the build's memory and CPU: prlimit is missing; install util-linux`, {
      details: { file: what },
    });
  }
  const root: string[] = ['--ro-bind', '/usr', '/usr'];
  // Merged-/usr systems link these into /usr; others have real folders.
  for (const d of ['bin', 'lib', 'lib64', 'sbin']) {
    if (!existsSync(`/${d}`)) continue;
    root.push(...(existsSync(`/usr/${d}`) ? ['--symlink', `usr/${d}`, `/${d}`] : ['--ro-bind', `/${d}`, `/${d}`]));
  }
  return limited(bw, [
    ...root,
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    // tmpfs is host memory: bounded.
    '--size',
    String(limits.tmpMiB * MiB),
    '--tmpfs',
    '/tmp',
    ...mounts.readOnly.filter((p) => existsSync(p)).flatMap((p) => ['--ro-bind', p, p]),
    ...mounts.writable.flatMap((p) => ['--bind', p, p]),
    // The root bwrap builds the tree on is a tmpfs (host memory, unbounded): read-only once built.
    '--remount-ro',
    '/',
    '--unshare-all',
    ...(mounts.network === true ? ['--share-net'] : []),
    // A user namespace of its own, as nobody, with no capabilities: as root, bwrap would otherwise keep them all (mknod, mount).
    '--uid',
    '65534',
    '--gid',
    '65534',
    ...(isRoot() ? ['--cap-drop', 'ALL'] : []),
    '--die-with-parent',
    '--new-session',
    '--clearenv',
    '--setenv',
    'PATH',
    SANDBOX_PATH,
    '--setenv',
    'HOME',
    '/tmp',
    // A Rust tool (componentize-py, wizer) buries its error under a backtrace when this is set.
    '--setenv',
    'RUST_BACKTRACE',
    '0',
    ...Object.entries(options.setenv ?? {}).flatMap(([k, v]) => ['--setenv', k, v]),
    '--chdir',
    mounts.cwd,
    file,
    ...args,
  ]);
}

/** A step that exited non-zero on its own (not a limit): the caller words the error. */
export class StepFailed extends Error {
  readonly stderr: string;
  readonly exitCode: number | null;
  /** The program to run does not exist. */
  readonly notFound: boolean;
  constructor(stderr: string, exitCode: number | null, notFound: boolean) {
    super(stderr.trim().split('\n').slice(-15).join('\n') || `exit code ${exitCode}`);
    this.stderr = stderr;
    this.exitCode = exitCode;
    this.notFound = notFound;
  }
}

function limitError(what: string, limit: keyof BuildLimits, limits: BuildLimits, text: string): AirlockError {
  const unit = {
    memoryMiB: 'MiB per process',
    cpuSeconds: 's of CPU',
    wallSeconds: 's',
    processes: 'processes',
    fileMiB: 'MiB per file',
    tmpMiB: 'MiB of /tmp',
    outputKiB: 'KiB',
  }[limit];
  return new AirlockError(
    'build-failed',
    `${what}: the build went past its ${text} limit (${limits[limit]} ${unit}); fix the plugin, or raise the limit with ${LIMIT_ENV[limit]} if the build legitimately needs more`,
    { details: { file: what, limit: LIMIT_ENV[limit] } },
  );
}

/**
 * Keeps the last `max` bytes written, as bytes (the spawn helper's bound): build-time plugin code printing one
 * byte per write must not cost the host an object per byte.
 */
function tail(max: number): { push(b: Buffer): void; text(): string } {
  const kept = new HeadTail(0, max);
  return { push: (b) => kept.push(b), text: () => kept.captured().text };
}

// Exit statuses that name a limit: the signal (unsandboxed) or bwrap's 128+signal.
const SIGXCPU = 24;
const SIGXFSZ = 25;
const OUT_OF_MEMORY = /out of memory|Cannot allocate memory|MemoryError|memory allocation of \d+ bytes failed|bad_alloc|Allocation failed/i;

/**
 * Runs one build step sandboxed (see sandboxed) and limited; resolves with its
 * stdout (bounded), throws build-failed naming the limit a step went past, or
 * StepFailed when it failed on its own.
 */
export async function runSandboxed(file: string, args: string[], mounts: SandboxMounts, what: string, options: SandboxOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const limits = options.limits ?? buildLimits(env);
  // The step's own memory and /tmp (tmpfs pages are charged to it) together.
  const cgroups = stepCgroups(limits.processes, (limits.memoryMiB + limits.tmpMiB) * MiB);
  let cmd = sandboxed(file, args, mounts, what, { ...options, limits, ...(cgroups.pids ? { nproc: false } : {}) });
  // Joins the cgroups before exec, so not even the first fork escapes them.
  if (cgroups.dirs.length > 0)
    cmd = { file: '/bin/sh', args: ['-c', 'for d in $CGROUPS; do echo $$ > "$d/cgroup.procs" || exit 125; done; exec "$@"', 'sh', cmd.file, ...cmd.args] };
  const unsandboxed = cmd.args.indexOf('--clearenv') === -1;
  const out = tail(limits.outputKiB * 1024);
  const err = tail(limits.outputKiB * 1024);
  try {
    const { code, signal, timedOut, spawnError } = await new Promise<{
      code: number | null;
      signal: NodeJS.Signals | null;
      timedOut: boolean;
      spawnError?: NodeJS.ErrnoException;
    }>((done) => {
      // Its own process group, killed whole on timeout; inside bwrap the pid namespace dies with it.
      const child = spawn(cmd.file, cmd.args, {
        cwd: mounts.cwd,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...(unsandboxed ? { ...env, RUST_BACKTRACE: '0', ...options.setenv } : { PATH: env.PATH ?? '/usr/bin:/bin' }),
          ...(cgroups.dirs.length > 0 ? { CGROUPS: cgroups.dirs.join(' ') } : {}),
        },
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-(child.pid ?? 0), 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, limits.wallSeconds * 1000);
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        done({ code: null, signal: null, timedOut, spawnError: e });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        done({ code, signal, timedOut });
      });
    });
    if (spawnError !== undefined) throw new StepFailed(spawnError.message, null, spawnError.code === 'ENOENT');
    if (code === 0) return out.text();
    const stderr = err.text();
    if (timedOut) throw limitError(what, 'wallSeconds', limits, 'wall-time');
    if (signal === 'SIGXCPU' || code === 128 + SIGXCPU) throw limitError(what, 'cpuSeconds', limits, 'CPU-time');
    if (signal === 'SIGXFSZ' || code === 128 + SIGXFSZ || /File too large/.test(stderr)) throw limitError(what, 'fileMiB', limits, 'file-size');
    const hit = cgroups.hit();
    if (hit === 'processes') throw limitError(what, 'processes', limits, 'process-count');
    if (hit === 'memory') throw limitError(what, 'memoryMiB', limits, 'memory');
    if (/Resource temporarily unavailable|Cannot fork|can't start new thread/i.test(stderr) && !cgroups.pids)
      throw limitError(what, 'processes', limits, 'process-count');
    if (/No space left on device/.test(stderr)) throw limitError(what, 'tmpMiB', limits, '/tmp-size');
    if (OUT_OF_MEMORY.test(stderr)) throw limitError(what, 'memoryMiB', limits, 'memory');
    throw new StepFailed(stderr, code, /execvp .*: No such file or directory/.test(stderr));
  } finally {
    await cgroups.remove();
  }
}
