/**
 * Blank wasm workers started ahead, shared by every worker engine of the
 * process: a thread with Airlock's worker modules and the WASI baseline
 * loaded, waiting to be handed a plugin (./worker.ts). A load() adopts one,
 * so a cached component's cold start is its instantiation, not a thread's
 * start; each adoption starts a replacement in the background.
 *
 * Every worker is alike until adopted (empty env, no argv, the same heap
 * cap), so any one serves any plugin. Idle standbys are unref'd: they never
 * keep the process alive. A standby that dies is dropped; one that cannot
 * start stops the refilling until a start succeeds again (no spawn loop).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AirlockError } from '../../errors.ts';
import { retire } from '../../worker-retire.ts';
import type { WasmWorkerData, WasmWorkerMessage } from '../../protocol.ts';
import { workerExecArgv } from '../../worker-argv.ts';

/** The JS heap of a worker (glue, shim); the guest's linear memory is capped in the module itself. */
const WORKER_HEAP_MB = 512;
/**
 * Its young generation (new JS objects). V8's default lets it grow to 192 MiB
 * per thread, resident once touched; a worker allocates little JS per call
 * (strings in and out; big ones go to the large-object space). 4 MiB keeps an
 * idle worker ~1.5 MiB smaller and a busy one bounded; 2 MiB saved no more
 * and slowed per-call isolation (a fresh instance per call) by ~10% (issue 21).
 */
export const WORKER_YOUNG_MB = 4;

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

/** What a blank worker prepares ahead: the glue and the WASI interfaces of the plugin adopted last (./worker.ts). */
export type Guess = Pick<WasmWorkerData, 'glue' | 'interfaces'>;

/** A started worker, blank until adopted. */
export interface BlankWorker {
  worker: Worker;
  /** The last 2000 characters the thread wrote to stderr (for crash messages). */
  stderrTail: string;
  /** Settles once it says `settled`, or it died: what it does before (compiling a guessed glue) must not be cut short. */
  settled: Promise<void>;
}

/** Half the cores, at least 1, at most 4; AIRLOCK_WASM_STANDBY overrides (0: none). */
export function defaultStandbySize(): number {
  const env = Number.parseInt(process.env.AIRLOCK_WASM_STANDBY ?? '', 10);
  if (Number.isInteger(env) && env >= 0) return Math.min(env, 64);
  return Math.min(4, Math.max(1, availableParallelism() >> 1));
}

/** Workers a load waits for: ref'd until adopted. */
const held = new WeakSet<Worker>();

function hold(worker: Worker): void {
  held.add(worker);
  worker.ref();
}

/**
 * Starts one blank worker (unref'd); `ready` resolves once it says `standby`,
 * rejects if it dies first; `settled` resolves once it says `settled` (the
 * threads it started in the background have booted: ./worker.ts), or it died.
 */
export function startBlank(guess: Guess = {}, awaited = false): { worker: Worker; ready: Promise<BlankWorker>; settled: Promise<void> } {
  const data: WasmWorkerData = { kind: 'airlock-wasm-worker', ...guess, ...(awaited ? { awaited } : {}) };
  const execArgv = workerExecArgv();
  const worker = new Worker(WORKER_URL, {
    workerData: data,
    ...(execArgv === undefined ? {} : { execArgv }),
    env: {},
    argv: [],
    stdout: true,
    stderr: true,
    // Node closes the fds a terminated worker still holds (the filesystem
    // capability opens raw fds; a timeout kills the worker mid-call).
    trackUnmanagedFds: true,
    // Reaching it ends the worker with ERR_WORKER_OUT_OF_MEMORY -> memory-limit.
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
    name: 'airlock:wasm',
  });
  const settled = new Promise<void>((resolve) => {
    const over = (msg?: WasmWorkerMessage): void => {
      if (msg !== undefined && msg?.type !== 'settled') return;
      worker.off('message', over);
      worker.off('exit', onEnd);
      resolve();
    };
    const onEnd = (): void => over();
    worker.on('message', over);
    worker.once('exit', onEnd);
  });
  const w: BlankWorker = { worker, stderrTail: '', settled };
  // Its stdio is read from adoption on (./pool.ts readStdio): reading a worker's stdio refs it, and a
  // standby must not keep the process alive. A blank worker prints nothing.
  worker.unref();
  // Again once online: Node 24 brings a worker online ref'd when it was unref'd before (see src/worker-lane.ts).
  worker.once('online', () => held.has(worker) || worker.unref());
  const ready = new Promise<BlankWorker>((resolve, reject) => {
    const fail = (why: string): void => {
      cleanup();
      void worker.terminate();
      reject(new AirlockError('crash', `a wasm worker could not start: ${why}${w.stderrTail ? `: ${w.stderrTail.trim()}` : ''}`));
    };
    const onMessage = (msg: WasmWorkerMessage): void => {
      if (msg?.type !== 'standby') return;
      cleanup();
      resolve(w);
    };
    const onError = (e: Error): void => fail(e.message);
    const onExit = (code: number): void => fail(`it exited with code ${code}`);
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
  return { worker, ready, settled };
}

// Where retire lives (a worker lane uses it too, outside the engines); re-exported for the engine's callers.
export { retire, START_BOUND_MS } from '../../worker-retire.ts';

/** From adoption on: what the worker prints to stderr is kept (its tail) for crash messages; stdout is dropped. */
export function readStdio(w: BlankWorker): void {
  w.worker.stdout.resume(); // nothing a guest prints reaches here (captured per call); drop shim chatter
  w.worker.stderr.on('data', (d: Buffer) => {
    w.stderrTail = (w.stderrTail + d.toString('utf8')).slice(-2000);
  });
}

/** How long after an adoption the standby starts its replacement. */
const REFILL_DELAY_MS = 100;

interface Waiting {
  /** Its thread (ref'd while a load waits for it: an unref'd start would not keep the process alive). */
  worker: Worker;
  ready: Promise<BlankWorker | undefined>;
  settled: Promise<void>;
}

/** The process's standby (one per process: engines share it). */
class Standby {
  #size: number | undefined;
  readonly #waiting: Waiting[] = [];
  #broken = false;
  /** The plugin adopted last: new blank workers compile its glue and load its WASI baseline ahead (./worker.ts). */
  #guess: Guess = {};

  get size(): number {
    return this.#size ?? defaultStandbySize();
  }

  /** Asks for at least `n` blank workers from now on. */
  want(n: number): void {
    this.#size = Math.max(this.#size ?? 0, n);
    this.fill();
  }

  /** Sets the size (tests and benchmarks; 0 empties it). Dropped workers still starting end once started (see retire). */
  resize(n: number): void {
    this.#size = n;
    // Settled, not only started: after `standby` a blank worker still compiles (the glue it guesses).
    for (const e of this.#waiting.splice(n)) retire(e.worker, e.settled);
    this.fill();
  }

  /**
   * One blank worker for a load about to come, whatever the size, unless one is there or on its way
   * (a short-lived process, `airlock call`, starts the thread its one load adopts while it reads and builds).
   */
  prestart(): void {
    // Awaited: the load comes next, so the worker starts nothing in the background it would wait behind.
    if (this.#waiting.length === 0) this.#startOne(true);
  }

  /** Starts blank workers until `size` are there or on their way. */
  fill(): void {
    while (!this.#broken && this.#waiting.length < this.size) this.#startOne();
  }

  #startOne(awaited = false): void {
    if (this.#broken) return;
    const { worker, ready, settled } = awaited ? startBlank({}, true) : startBlank(this.#guess);
    const entry: Waiting = {
      worker,
      settled,
      ready: ready.then(
        (b) => b,
        () => {
          this.#drop(entry);
          this.#broken = true;
          return undefined;
        },
      ),
    };
    // Dropped when it dies while waiting.
    worker.once('exit', () => this.#drop(entry));
    this.#waiting.push(entry);
  }

  #drop(entry: Waiting): void {
    const i = this.#waiting.indexOf(entry);
    if (i >= 0) this.#waiting.splice(i, 1);
  }

  /**
   * The thread ids of the blank workers waiting now, once each has started
   * and settled (as in a process up a while: nothing of their start still
   * running in the background); those that fail are left out.
   */
  async threads(): Promise<number[]> {
    this.fill();
    // Unref'd starts alone would let the process exit while it waits here.
    const alive = setInterval(() => {}, 1 << 30);
    const waiting = [...this.#waiting];
    const ready = await Promise.all(waiting.map((e) => e.ready.then(async (b) => (await e.settled, b)))).finally(() => clearInterval(alive));
    return ready.flatMap((b) => (b === undefined || b.worker.threadId < 0 ? [] : [b.worker.threadId]));
  }

  /**
   * A blank worker for a plugin: the oldest standby (started or on its way),
   * else a new one. Starts a replacement in the background, which prepares
   * `guess` (the plugin's glue and WASI baseline) ahead. The caller reads its stdio (readStdio),
   * which keeps the process alive while it lives.
   */
  async take(guess?: Guess): Promise<BlankWorker> {
    if (guess !== undefined) this.#guess = guess;
    const entry: Pick<Waiting, 'worker' | 'ready'> = this.#waiting.shift() ?? startBlank({}, true);
    hold(entry.worker);
    let w = await entry.ready;
    if (w === undefined || w.worker.threadId < 0) {
      const fresh = startBlank({}, true);
      hold(fresh.worker);
      w = await fresh.ready;
    }
    // A start succeeded: refilling may go on, a little later: a short-lived process (`airlock call`) is
    // done by then and never pays for a thread it would not use; a host gets its standby back.
    this.#broken = false;
    setTimeout(() => this.fill(), REFILL_DELAY_MS).unref();
    return w;
  }
}

export const standby = new Standby();
