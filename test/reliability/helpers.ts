/**
 * Shared tools of the fault, load and soak runs: bounded waits (a call that
 * never settles fails the run instead of hanging it), a record of every
 * wasm worker thread the engine starts (to kill one from outside the engine),
 * call ledgers that count results per call id, and samples of the process's
 * resources (heap, RSS, fds, Airlock's containers).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { Worker as WorkerType, WorkerOptions } from 'node:worker_threads';
import { isAirlockError, type ErrorCode } from '../../src/errors.ts';
import { cacheDir } from '../../src/paths.ts';

/** Resolves with `p`, or rejects naming `what` when it has not settled within `ms` (a hang, not a slow run: keep `ms` generous). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms: a hang`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** What `p` settled with, its value or its rejection reason, within `ms` (see `within`). */
export function settled(p: Promise<unknown>, ms: number, what: string): Promise<unknown> {
  return within(
    p.then(
      (v) => v,
      (e: unknown) => e,
    ),
    ms,
    what,
  );
}

/** How one call ended. */
export type Outcome = { ok: true; value: unknown } | { ok: false; code: ErrorCode | 'untyped'; message: string };

/**
 * Counts how each call ended, by call id: `settle` is called from the call's
 * own handlers, so a second result for one id (a duplicated answer) or an id
 * never settled (a lost call) shows in `duplicates()` / `missing()`.
 */
export class Ledger {
  readonly #outcomes = new Map<number, Outcome>();
  readonly #settles = new Map<number, number>();
  readonly #issued = new Set<number>();
  #waiters: Array<{ n: number; resolve: () => void }> = [];

  /** Issues call `id`: `run` starts it; its outcome is recorded once it settles. */
  track(id: number, run: () => Promise<unknown>): Promise<void> {
    this.#issued.add(id);
    return run().then(
      (value) => this.#settle(id, { ok: true, value }),
      (e: unknown) =>
        this.#settle(id, isAirlockError(e) ? { ok: false, code: e.code, message: e.message } : { ok: false, code: 'untyped', message: String(e) }),
    );
  }

  #settle(id: number, o: Outcome): void {
    this.#settles.set(id, (this.#settles.get(id) ?? 0) + 1);
    if (!this.#outcomes.has(id)) this.#outcomes.set(id, o);
    const n = this.#outcomes.size;
    this.#waiters = this.#waiters.filter((w) => (w.n <= n ? (w.resolve(), false) : true));
  }

  /** Settles once `n` calls have settled. */
  when(n: number): Promise<void> {
    if (this.#outcomes.size >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }

  get issued(): number {
    return this.#issued.size;
  }

  get settled(): number {
    return this.#outcomes.size;
  }

  outcome(id: number): Outcome | undefined {
    return this.#outcomes.get(id);
  }

  outcomes(): Array<[number, Outcome]> {
    return [...this.#outcomes];
  }

  missing(): number[] {
    return [...this.#issued].filter((id) => !this.#outcomes.has(id));
  }

  duplicates(): number[] {
    return [...this.#settles].filter(([, n]) => n > 1).map(([id]) => id);
  }

  /** Calls per outcome: `ok` or the error code. */
  tally(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const o of this.#outcomes.values()) {
      const k = o.ok ? 'ok' : o.code;
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }
}

export interface TrackedWorker {
  worker: WorkerType;
  /** `airlock:<plugin>`: the thread's name, or for a standby worker the plugin it was given (`airlock:wasm` before). */
  name: string;
}

let tracked: Set<TrackedWorker> | undefined;

/**
 * Records every worker thread created from now on in this thread (the wasm
 * engine's included: it imports `Worker` from node:worker_threads, whose ESM
 * binding syncBuiltinESMExports updates). The engine is not changed or told:
 * a test then terminates a thread the engine believes healthy, as a crash
 * would. Returns the live workers (those that have not exited).
 */
export function trackWorkers(): Set<TrackedWorker> {
  if (tracked !== undefined) return tracked;
  const live = new Set<TrackedWorker>();
  const wt = createRequire(import.meta.url)('node:worker_threads') as { Worker: typeof WorkerType };
  const Original = wt.Worker;
  class Tracked extends Original {
    readonly #entry: TrackedWorker;
    constructor(filename: string | URL, options?: WorkerOptions) {
      super(filename, options);
      const entry = { worker: this as WorkerType, name: options?.name ?? '' };
      this.#entry = entry;
      live.add(entry);
      this.once('exit', () => live.delete(entry));
    }

    // A standby wasm worker starts blank (named airlock:wasm) and learns its plugin from the host's adopt
    // message (src/engines/wasm/standby.ts): from then on it is that plugin's.
    override postMessage(value: unknown, transferList?: Parameters<WorkerType['postMessage']>[1]): void {
      const adopt = value as { type?: unknown; plugin?: { grants?: { plugin?: { name?: unknown } } } } | null;
      const name = adopt?.type === 'adopt' ? adopt.plugin?.grants?.plugin?.name : undefined;
      if (typeof name === 'string') this.#entry.name = `airlock:${name}`;
      super.postMessage(value, transferList);
    }
  }
  wt.Worker = Tracked;
  syncBuiltinESMExports();
  tracked = live;
  return live;
}

/** The live worker threads of one plugin (see trackWorkers). */
export function workersOf(plugin: string): WorkerType[] {
  return [...(tracked ?? [])].filter((w) => w.name === `airlock:${plugin}`).map((w) => w.worker);
}

/** Open file descriptors of this process (Linux). */
export function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

/** Bumps a counter on every turn of the event loop (setImmediate chain) until stopped: it stalls exactly when the loop is blocked. */
export function heartbeat(): { readonly beats: number; stop(): void } {
  let beats = 0;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    beats++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get beats() {
      return beats;
    },
    stop() {
      stopped = true;
    },
  };
}

/** Forces a full collection when the process runs with --expose-gc; a no-op otherwise. */
export function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
}

/**
 * The local base images .ci/setup-docker.sh built (it leaves their env lines in the cache), for the
 * scripts that run outside ava (test/engines/docker/helpers.ts does the same for the ava tests).
 */
export function useRecordedDockerBaseImages(): void {
  let text = '';
  try {
    text = readFileSync(cacheDir('docker-base', 'env'), 'utf8');
  } catch {
    return;
  }
  for (const m of text.matchAll(/^export (\w+)=(.*)$/gm)) {
    const [, name, value] = m as unknown as [string, string, string];
    if (['AIRLOCK_NODE_IMAGE', 'AIRLOCK_PYTHON_IMAGE', 'AIRLOCK_EXTRA_CA'].includes(name) && process.env[name] === undefined) process.env[name] = value;
  }
}
