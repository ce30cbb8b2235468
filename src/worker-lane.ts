/**
 * One worker thread that does the host's work on plugin-controlled data off
 * the event loop: jobs one at a time in arrival order, each with a time
 * bound and an optional AbortSignal, the thread's heap capped. A job that
 * runs past its bound, is aborted, or runs the thread out of heap ends the
 * thread; the jobs behind it go to a fresh one. The thread is started on first
 * use and does not keep the process alive while idle.
 *
 * The queue, bounds, aborts and replacement are the slot pool's (src/slots/):
 * one slot, no queue limit; this file is its driver, the slot's instance a
 * thread started when a job first needs it.
 *
 * Used for checking manifests (src/manifest/off-thread.ts) and large values
 * against tool schemas (src/host/validator-thread.ts).
 */
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { retire } from './worker-retire.ts';
import { AirlockError } from './errors.ts';
import type { Slot, SlotCall, SlotDriver } from './slots/driver.ts';
import { SlotPool } from './slots/pool.ts';
import { workerExecArgv } from './worker-argv.ts';
import { cacheRoot } from './paths.ts';

export interface LaneOptions {
  /** The worker's entry module. */
  url: URL;
  name: string;
  resourceLimits: ResourceLimits;
  workerData?: unknown;
  /** Start the next thread as soon as one is ended for a bound (the next job does not wait for it). */
  prestart?: boolean;
  /** The error a job gets when it ends other than by its reply. */
  failure(kind: 'timeout' | 'memory' | 'crash', label: string, detail: string): AirlockError;
}

export interface LaneJob {
  /** Names the job in errors. */
  label: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** A job as queued: the message posted to the thread, and the id its reply carries. */
interface Job {
  id: number;
  message: object;
}

/** The slot's instance: its thread once a job (or a prestart) needed one. */
interface Thread {
  worker: Worker | undefined;
  /** The job it was last given (whether its end was an abort decides a prestart). */
  call: SlotCall<Job> | undefined;
  /** It ended by itself (crash, out of heap), not by the lane. */
  died: boolean;
  /** Settles once its start is over: its entry module has loaded, or it failed, or it died. */
  started: Promise<void>;
}

/** What the lane's bootstrap posts once the entry module has loaded (no job's reply: it carries no id). */
const STARTED = 'airlock-lane-started';

/**
 * The thread's code: the entry module, then a word to the lane that its start
 * is over (see kill). process.getBuiltinModule, not require: the code is a
 * module when the host runs with --input-type=module.
 */
function bootstrap(url: URL): string {
  return `import(${JSON.stringify(url.href)}).then(() => process.getBuiltinModule('node:worker_threads').parentPort.postMessage(${JSON.stringify(STARTED)}));`;
}

class LaneDriver<Reply extends { id: number }> implements SlotDriver<Thread, Job, Job> {
  pool!: SlotPool<Thread, Job, Reply, Job>;
  readonly #o: LaneOptions;

  constructor(options: LaneOptions) {
    this.#o = options;
  }

  /** Spawns nothing, unless the thread it replaces was ended for a bound and prestart asks for the next one now. */
  start(slot: Slot<Thread, Job>, prev: Thread | undefined): Promise<Thread> {
    const t: Thread = { worker: undefined, call: undefined, died: false, started: Promise.resolve() };
    // Not after a crash: a thread that cannot start would be restarted forever.
    if (this.#o.prestart === true && prev?.worker !== undefined && !prev.died && prev.call?.signal?.aborted !== true) this.#spawn(slot, t);
    return Promise.resolve(t);
  }

  run(slot: Slot<Thread, Job>, call: SlotCall<Job>): void {
    const t = slot.handle as Thread;
    const w = t.worker ?? this.#spawn(slot, t);
    t.call = call;
    w.ref();
    w.postMessage(call.input.message);
  }

  /**
   * Ends the thread once its start is over, never midway (a thread torn down
   * while it imports and compiles can abort the process: see
   * src/worker-retire.ts). Not awaited by the next job: the
   * old thread may still be busy with the one it ends.
   */
  kill(t: Thread): Promise<void> {
    return t.worker === undefined ? Promise.resolve() : retire(t.worker, t.started);
  }

  stop(t: Thread): Promise<void> {
    return this.kill(t);
  }

  #spawn(slot: Slot<Thread, Job>, t: Thread): Worker {
    const o = this.#o;
    const execArgv = workerExecArgv();
    // None of the host's environment, but where its cache is: the thread reads and writes the same one (the manifest checks it remembers).
    const env = { AIRLOCK_CACHE_DIR: cacheRoot() };
    // node:worker_threads on first use: importing the host does not load it (issue 21).
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const w = new Worker(bootstrap(o.url), {
      eval: true,
      name: o.name,
      env,
      resourceLimits: o.resourceLimits,
      workerData: o.workerData,
      ...(execArgv === undefined ? {} : { execArgv }),
    });
    t.worker = w;
    t.started = new Promise<void>((resolve) => {
      const over = (): void => {
        w.off('message', onMessage);
        w.off('error', over);
        w.off('exit', over);
        resolve();
      };
      const onMessage = (m: unknown): void => {
        if (m === STARTED) over();
      };
      w.on('message', onMessage);
      w.on('error', over);
      w.on('exit', over);
    });
    w.unref();
    // Unref'd again once online when still idle: a thread prestarted while the one it replaces is being
    // terminated came online ref'd here (Node 24), and an idle lane must not keep the process alive.
    w.once('online', () => {
      if (t.call === undefined) w.unref();
    });
    w.on('message', (reply: Reply) => {
      const call = t.call;
      if (call === undefined || reply?.id !== call.input.id) return;
      t.call = undefined;
      w.unref();
      // Ignored when the job already ended (bound, abort).
      this.pool.answer(call, reply);
    });
    // The pool ignores a thread it has already let go of.
    const died = (err: AirlockError): void => {
      t.died = true;
      this.pool.died(slot, t, err);
    };
    w.on('error', (err: Error & { code?: string }) => {
      const label = slot.call?.tool ?? 'a job';
      died(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? o.failure('memory', label, err.message) : o.failure('crash', label, err.message));
    });
    // Exits the lane asked for (kill) have already let go of the thread; any other ends the job it held.
    w.on('exit', (code) => died(o.failure('crash', slot.call?.tool ?? 'a job', `the thread exited (code ${code})`)));
    return w;
  }
}

/** Messages the worker answers carry the `id` of the job they answer. */
export class WorkerLane<Reply extends { id: number }> {
  readonly #pool: SlotPool<Thread, Job, Reply, Job>;
  #nextId = 1;

  constructor(options: LaneOptions) {
    const driver = new LaneDriver<Reply>(options);
    const aborted = (label: string, reason: unknown): AirlockError => new AirlockError('aborted', `${label} was aborted`, { cause: reason });
    this.#pool = driver.pool = new SlotPool(
      driver,
      // One job at a time, as many waiting as come; each job brings its own bound.
      { plugin: { name: options.name }, resources: { concurrency: 1, queue: Number.POSITIVE_INFINITY, timeoutMs: Number.POSITIVE_INFINITY } },
      {
        instance: 'thread',
        errors: {
          abortedBeforeStart: (_lane, label, reason) => aborted(label, reason),
          abortedQueued: (_lane, label, reason) => aborted(label, reason),
          abortedRunning: (_lane, label, _thread, reason) => aborted(label, reason),
          timeout: (_lane, label, _instance, timeoutMs) => options.failure('timeout', label, `${Math.round(timeoutMs)} ms`),
        },
      },
    );
    // Starting the slot spawns nothing: the first job starts the thread.
    void this.#pool.start();
  }

  /** Runs one job: `message(id)` is posted to the thread; resolves with the reply that carries `id`. */
  run(message: (id: number) => object, job: LaneJob): Promise<Reply> {
    const id = this.#nextId++;
    return this.#pool.call(job.label, { id, message: message(id) }, { timeoutMs: job.timeoutMs, ...(job.signal === undefined ? {} : { signal: job.signal }) });
  }
}
