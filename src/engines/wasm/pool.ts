/**
 * The host side of one plugin's workers: a fixed number of worker threads
 * (grants.resources.concurrency), each with its own fast channel, a bounded
 * queue in front of them, and the limits that need the host: timeouts and
 * aborts terminate the worker (a fresh one replaces it), a full queue answers
 * `overloaded`, a dead worker `crash`. The main thread never blocks.
 *
 * With per-call isolation the pool keeps one standby worker beyond
 * resources.concurrency (never more calls than that run at once): a worker
 * builds its next fresh instance right after answering, and meanwhile the
 * next call goes to a worker whose instance is already built, so calls in
 * quick succession do not wait for an instantiation.
 */
import { Worker } from 'node:worker_threads';
import type { CallOptions, CallResult, PendingCall } from '../types.ts';
import { AirlockError, type ErrorCode } from '../../errors.ts';
import type { Grants } from '../../grants/types.ts';
import type { OpenedCapabilities } from '../../capabilities/index.ts';
import type { WasmWorkerData, WasmWorkerMessage } from '../../protocol.ts';
import { waitAsync, type WasmModule } from '../../wasm-api.ts';
import { Channel, ChannelFullError, RESP_SEQ, RESPONSE } from './channel.ts';

const WORKER_HEAP_MB = 512;

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

interface Job extends PendingCall<string> {
  /** When a worker took it. */
  dispatched: number;
}

interface Slot {
  worker: Worker;
  channel: Channel;
  /** Bumped whenever the slot's worker is replaced; stale events compare it. */
  gen: number;
  state: 'starting' | 'idle' | 'busy' | 'dead';
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
  stderrTail: string;
  /** An Atomics.waitAsync on this slot's channel is pending. */
  waiting: boolean;
}

export interface PoolOptions {
  grants: Grants;
  glueUrl: string;
  glueName: string;
  modules: Record<string, WasmModule>;
  /** What the capabilities opened for the plugin: `shared` reaches every worker, `instanceGone` runs when one exits. */
  capabilities: Pick<OpenedCapabilities, 'shared' | 'instanceGone'>;
  /** See WasmEngineOptions.hostSpinMicros. */
  hostSpinMicros: number;
  /** See WasmEngineOptions.workerSpinMicros. */
  workerSpinMicros: number;
}

export class PluginPool {
  readonly #opts: PoolOptions;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #closing = false;
  #closed: Promise<void> | undefined;
  /** Terminations in flight; close() waits for them (and so for Node closing their fds). */
  readonly #cleanups = new Set<Promise<void>>();
  #drained: (() => void) | undefined;

  constructor(opts: PoolOptions) {
    this.#opts = opts;
  }

  get #grants(): Grants {
    return this.#opts.grants;
  }

  /** Calls that may run at once (workers may be one more, see the standby above). */
  get #concurrency(): number {
    return Math.max(1, Math.floor(this.#grants.resources.concurrency));
  }

  /** Starts every worker; rejects (and stops them) when one cannot start. */
  async start(): Promise<void> {
    const n = this.#concurrency + (this.#grants.isolation === 'per-call' ? 1 : 0);
    const starts: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const { slot, ready } = this.#spawn();
      this.#slots.push(slot);
      starts.push(ready);
    }
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.#terminateAll();
      throw failed.reason;
    }
  }

  #spawn(prev?: Slot): { slot: Slot; ready: Promise<void> } {
    const g = this.#grants;
    const channel = Channel.create(Math.max(64 << 20, 3 * (g.resources.outputBytes + g.resources.logBytes) + (1 << 20)));
    const data: WasmWorkerData = { kind: 'airlock-wasm-worker', glueUrl: this.#opts.glueUrl, glueName: this.#opts.glueName, modules: this.#opts.modules, grants: g, capabilities: this.#opts.capabilities.shared, channel: channel.sab, spinMicros: this.#opts.workerSpinMicros };
    const worker = new Worker(WORKER_URL, {
      workerData: data,
      env: {},
      argv: [g.plugin.name],
      stdout: true,
      stderr: true,
      // Node closes the fds a terminated worker still holds (the filesystem
      // capability opens raw fds; a timeout kills the worker mid-call).
      trackUnmanagedFds: true,
      // The guest's linear memory is capped in the module itself (limits
      // capability); this bounds the JS side (glue, shim) as a safety net.
      // Reaching it ends the worker with ERR_WORKER_OUT_OF_MEMORY -> memory-limit.
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      name: `airlock:${g.plugin.name}`,
    });
    const slot: Slot = prev ?? { worker, channel, gen: 0, state: 'starting', job: undefined, timer: undefined, stderrTail: '', waiting: false };
    slot.waiting = false;
    slot.worker = worker;
    slot.channel = channel;
    slot.gen++;
    slot.state = 'starting';
    slot.stderrTail = '';
    const gen = slot.gen;
    worker.stdout.resume(); // nothing a guest prints reaches here (captured per call); drop shim chatter
    worker.stderr.on('data', (d: Buffer) => {
      slot.stderrTail = (slot.stderrTail + d.toString('utf8')).slice(-2000);
    });
    worker.unref();
    // A worker killed mid-call (timeout, abort) may hold what a capability shares (the disk-quota lock).
    const thread = worker.threadId;
    worker.once('exit', () => this.#opts.capabilities.instanceGone(thread));
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: WasmWorkerMessage) => {
        if (slot.gen !== gen) return;
        if (msg.type === 'ready') {
          slot.state = 'idle';
          resolve();
          this.#pump();
        } else if (msg.type === 'init-error') {
          // Not respawned here (it would fail the same way); a later call retries.
          slot.gen++;
          slot.state = 'dead';
          this.#terminate(worker);
          const err = AirlockError.fromJSON(msg.error);
          reject(err);
          this.#failQueued(err);
        }
      });
      worker.on('error', (e: Error & { code?: string }) => {
        if (slot.gen !== gen) return;
        const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
        const err = new AirlockError(oom ? 'memory-limit' : 'crash', `plugin ${g.plugin.name}: worker ${oom ? 'ran out of JS heap' : 'crashed'}: ${e.message}`, { cause: e });
        reject(err);
        this.#workerDied(slot, err);
      });
      worker.on('exit', (code) => {
        if (slot.gen !== gen) return;
        const err = new AirlockError('crash', `plugin ${g.plugin.name}: worker exited with code ${code}${slot.stderrTail ? `: ${slot.stderrTail.trim()}` : ''}`);
        reject(err);
        this.#workerDied(slot, err);
      });
    });
    // Unhandled if nobody awaits it (a replacement): failures surface through calls.
    ready.catch(() => {});
    return { slot, ready };
  }

  #workerDied(slot: Slot, err: AirlockError): void {
    const job = slot.job;
    // A worker that dies while starting would die again: leave the slot dead
    // (a later call retries it) instead of respawning in a loop.
    const respawn = slot.state !== 'starting' && !this.#closing;
    this.#retire(slot);
    if (job) job.reject(err);
    if (respawn) this.#spawn(slot);
    else this.#failQueued(err);
    this.#checkDrained();
  }

  /** Stops the slot's worker for good (its events are ignored from now on). */
  #retire(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    const job = slot.job;
    slot.job = undefined;
    if (job?.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    slot.gen++;
    slot.state = 'dead';
    // Wakes our own waitAsync so it does not linger; the stale generation ignores it.
    slot.channel.close();
    this.#terminate(slot.worker);
  }

  #terminate(worker: Worker): void {
    const done: Promise<void> = worker
      .terminate()
      .then(() => undefined)
      .finally(() => this.#cleanups.delete(done));
    this.#cleanups.add(done);
  }

  /** Kills a running call's worker (timeout, abort) and replaces it. */
  #kill(slot: Slot, code: ErrorCode, message: string): void {
    const job = slot.job;
    this.#retire(slot);
    job?.reject(new AirlockError(code, message));
    if (!this.#closing) this.#spawn(slot);
    else this.#failQueued(new AirlockError('aborted', `plugin ${this.#grants.plugin.name} is closing and has no worker left`));
    this.#checkDrained();
  }

  #failQueued(err: AirlockError): void {
    // Only when no worker can serve: otherwise the queue drains normally.
    if (this.#slots.some((s) => s.state !== 'dead')) return;
    for (const job of this.#queue.splice(0)) {
      if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
      job.reject(err);
    }
    this.#checkDrained();
  }

  call(tool: string, input: string, options: CallOptions = {}): Promise<CallResult> {
    const g = this.#grants;
    // The same code as the other engines' pools give a call after close.
    if (this.#closing) return Promise.reject(new AirlockError('aborted', `plugin ${g.plugin.name} is closed`));
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(new AirlockError('aborted', `call to ${g.plugin.name}/${tool} aborted before it started`));
    const timeoutMs = options.timeoutMs === undefined ? g.resources.timeoutMs : Math.min(options.timeoutMs, g.resources.timeoutMs);
    return new Promise<CallResult>((resolve, reject) => {
      const now = performance.now();
      const job: Job = { tool, input, start: now, dispatched: now, timeoutMs, signal, onAbort: undefined, resolve, reject };
      if (signal) {
        job.onAbort = () => this.#abort(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      const slot = this.#idleSlot();
      if (slot) {
        this.#run(slot, job);
        this.#drive();
        return;
      }
      if (this.#queue.length >= g.resources.queue) {
        if (job.onAbort) signal?.removeEventListener('abort', job.onAbort);
        reject(new AirlockError('overloaded', `plugin ${g.plugin.name}: ${g.resources.concurrency} calls running and ${this.#queue.length} waiting (resources.concurrency, host queue limit ${g.resources.queue}); retry later`));
        return;
      }
      this.#queue.push(job);
      this.#reviveDead();
    });
  }

  /** An idle worker, preferring one whose next instance is built; none while `concurrency` calls run. */
  #idleSlot(): Slot | undefined {
    let busy = 0;
    let idle: Slot | undefined;
    for (const s of this.#slots) {
      if (s.state === 'busy') busy++;
      else if (s.state === 'idle' && (idle === undefined || (!idle.channel.spareReady && s.channel.spareReady))) idle = s;
    }
    return busy < this.#concurrency ? idle : undefined;
  }

  /** A slot whose replacement failed to start is retried when work arrives. */
  #reviveDead(): void {
    if (this.#closing) return;
    for (const s of this.#slots) if (s.state === 'dead') this.#spawn(s);
  }

  #abort(job: Job): void {
    const i = this.#queue.indexOf(job);
    if (i >= 0) {
      this.#queue.splice(i, 1);
      job.reject(new AirlockError('aborted', `call to ${this.#grants.plugin.name}/${job.tool} aborted while queued`));
      this.#checkDrained();
      return;
    }
    const slot = this.#slots.find((s) => s.job === job);
    if (slot) this.#kill(slot, 'aborted', `call to ${this.#grants.plugin.name}/${job.tool} aborted; its worker was stopped and replaced`);
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      const slot = this.#idleSlot();
      if (!slot) return;
      this.#run(slot, this.#queue.shift()!);
    }
    this.#checkDrained();
  }

  #run(slot: Slot, job: Job): void {
    try {
      slot.channel.sendRequest({ tool: job.tool, input: job.input });
    } catch (e) {
      if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
      job.reject(e instanceof ChannelFullError ? new AirlockError('invalid-input', `input for ${job.tool} is too large: ${e.message}`) : new AirlockError('internal', String(e)));
      return;
    }
    job.dispatched = performance.now();
    slot.state = 'busy';
    slot.job = job;
    const gen = slot.gen;
    slot.timer = setTimeout(() => {
      if (slot.gen === gen && slot.job === job) {
        this.#kill(slot, 'timeout', `call to ${this.#grants.plugin.name}/${job.tool} ran past its ${job.timeoutMs} ms limit (resources.timeout); its worker was stopped and replaced`);
      }
    }, job.timeoutMs);
    this.#arm(slot);
  }

  /** Makes sure one Atomics.waitAsync watches the slot's response counter. */
  #arm(slot: Slot): void {
    if (slot.waiting) return;
    slot.waiting = true;
    const gen = slot.gen;
    const seq = Atomics.load(slot.channel.ctl, RESP_SEQ);
    // A response may already be there (seq moved on before we armed): then the
    // state check in #onWake finds it.
    const w = slot.channel.state === RESPONSE ? undefined : waitAsync(slot.channel.ctl, RESP_SEQ, seq);
    const wake = () => this.#onWake(slot, gen);
    if (w === undefined || !w.async) void Promise.resolve().then(wake);
    else void w.value.then(wake);
  }

  #onWake(slot: Slot, gen: number): void {
    if (slot.gen !== gen) return;
    slot.waiting = false;
    if (slot.state === 'busy' && slot.channel.state === RESPONSE) this.#complete(slot);
    if (slot.state === 'busy') this.#arm(slot);
    this.#drive();
  }

  /**
   * For up to hostSpinMicros, watches every busy slot and completes answers
   * in place: a quick call then resolves without an event-loop wake-up (the
   * larger part of a round trip). A bounded busy-wait; 0 disables it.
   */
  #drive(): void {
    const spinMs = this.#opts.hostSpinMicros / 1000;
    if (spinMs <= 0) return;
    const until = performance.now() + spinMs;
    for (;;) {
      let busy = false;
      for (const slot of this.#slots) {
        if (slot.state !== 'busy') continue;
        if (slot.channel.state === RESPONSE) this.#complete(slot);
        if (slot.state === 'busy') busy = true;
      }
      if (!busy || performance.now() >= until) return;
    }
  }

  /** Reads a slot's answer, settles its job and gives the slot the next queued job. */
  #complete(slot: Slot): void {
    const job = slot.job!;
    const res = slot.channel.readResponse();
    clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
    slot.state = 'idle';
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    const end = performance.now();
    const logs = { stdout: res.stdout, stderr: res.stderr, ...(res.truncated ? { truncated: true } : {}) };
    if (res.kind === 'ok') {
      job.resolve({ output: res.output, logs, metrics: { engine: 'wasm', durationMs: end - job.start, queueMs: job.dispatched - job.start } });
    } else {
      const err = AirlockError.fromJSON(res.error);
      Object.assign(err.details, { logs });
      job.reject(err);
    }
    // Results settle as microtasks, so the next queued job starts first.
    this.#pump();
  }

  #checkDrained(): void {
    if (this.#drained && this.#queue.length === 0 && !this.#slots.some((s) => s.state === 'busy')) {
      const d = this.#drained;
      this.#drained = undefined;
      d();
    }
  }

  /** Lets queued and running calls finish, then stops every worker. */
  close(): Promise<void> {
    // A second close() waits for the first one's drain, so it never resolves while workers still run.
    this.#closed ??= this.#drainAndTerminate();
    return this.#closed;
  }

  async #drainAndTerminate(): Promise<void> {
    this.#closing = true;
    if (this.#queue.length > 0 || this.#slots.some((s) => s.state === 'busy')) {
      await new Promise<void>((r) => {
        this.#drained = r;
      });
    }
    await this.#terminateAll();
  }

  async #terminateAll(): Promise<void> {
    const slots = [...this.#slots];
    for (const s of slots) {
      s.gen++;
      s.state = 'dead';
      if (s.timer) clearTimeout(s.timer);
      s.channel.close();
    }
    for (const s of slots) this.#terminate(s.worker);
    await Promise.all([...this.#cleanups]);
  }
}
