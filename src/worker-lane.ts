/**
 * One worker thread that does the host's work on plugin-controlled data off
 * the event loop: jobs one at a time in arrival order, each with a time
 * bound and an optional AbortSignal, the thread's heap capped. A job that
 * runs past its bound, is aborted, or runs the thread out of heap ends the
 * thread; the jobs behind it go to a fresh one. The thread is started on first
 * use and does not keep the process alive while idle.
 *
 * Used for checking manifests (src/manifest/off-thread.ts) and large values
 * against tool schemas (src/host/validator-thread.ts).
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { AirlockError } from './errors.ts';

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

interface Pending<T> extends LaneJob {
  id: number;
  message: object;
  resolve: (reply: T) => void;
  reject: (err: AirlockError) => void;
  onAbort: () => void;
}

/** Messages the worker answers carry the `id` of the job they answer. */
export class WorkerLane<Reply extends { id: number }> {
  readonly #o: LaneOptions;
  #worker: Worker | undefined;
  #running: Pending<Reply> | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #queue: Pending<Reply>[] = [];
  #nextId = 1;

  constructor(options: LaneOptions) {
    this.#o = options;
  }

  /** Runs one job: `message(id)` is posted to the thread; resolves with the reply that carries `id`. */
  run(message: (id: number) => object, job: LaneJob): Promise<Reply> {
    const { signal } = job;
    if (signal?.aborted === true) return Promise.reject(new AirlockError('aborted', `${job.label} was aborted`, { cause: signal.reason }));
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      const p: Pending<Reply> = {
        ...job,
        id,
        message: message(id),
        resolve,
        reject,
        onAbort: () => {
          const err = new AirlockError('aborted', `${job.label} was aborted`, { cause: signal?.reason });
          if (this.#running === p) return this.#end(this.#worker, err, false);
          this.#queue.splice(this.#queue.indexOf(p), 1);
          reject(err);
        },
      };
      signal?.addEventListener('abort', p.onAbort, { once: true });
      this.#queue.push(p);
      this.#pump();
    });
  }

  #spawn(): Worker {
    const o = this.#o;
    const w = new Worker(o.url, { name: o.name, env: {}, resourceLimits: o.resourceLimits, workerData: o.workerData });
    w.unref();
    w.on('message', (reply: Reply) => {
      const p = this.#running;
      if (w !== this.#worker || p === undefined || reply?.id !== p.id) return;
      this.#finish();
      p.resolve(reply);
    });
    w.on('error', (err: Error & { code?: string }) => {
      const label = this.#running?.label ?? 'a job';
      this.#end(w, err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? o.failure('memory', label, err.message) : o.failure('crash', label, err.message), false);
    });
    // Exits Airlock asked for (#end) have already let go of the thread; any other ends the job it held.
    w.on('exit', (code) => this.#end(w, o.failure('crash', this.#running?.label ?? 'a job', `the thread exited (code ${code})`), false));
    return w;
  }

  #pump(): void {
    if (this.#running !== undefined) return;
    const p = this.#queue.shift();
    if (p === undefined) return;
    this.#running = p;
    const w = (this.#worker ??= this.#spawn());
    w.ref();
    this.#timer = setTimeout(
      () => {
        if (this.#running === p) this.#end(w, this.#o.failure('timeout', p.label, `${Math.round(p.timeoutMs)} ms`), this.#o.prestart === true);
      },
      Math.max(1, p.timeoutMs),
    );
    w.postMessage(p.message);
  }

  /** Lets go of the running job's bookkeeping and sends the next job. */
  #finish(): void {
    const p = this.#running;
    clearTimeout(this.#timer);
    this.#running = undefined;
    p?.signal?.removeEventListener('abort', p.onAbort);
    this.#worker?.unref();
    this.#pump();
  }

  /** Ends the thread `w` (a bound passed, an abort, a crash) and fails the job it was running with `reason`. */
  #end(w: Worker | undefined, reason: AirlockError, respawn: boolean): void {
    if (w === undefined || this.#worker !== w) return;
    const p = this.#running;
    // Replaced before the next job is sent: the old thread may still be busy with this one.
    this.#worker = undefined;
    void w.terminate();
    // Not after a crash: a thread that cannot start would be restarted forever.
    if (respawn) this.#worker = this.#spawn();
    this.#finish();
    p?.reject(reason);
  }
}
