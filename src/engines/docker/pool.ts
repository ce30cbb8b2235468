/**
 * The warm containers of one plugin: `grants.resources.concurrency` running
 * containers, each serving one call at a time over its stdio, and a bounded
 * queue in front of them. A timeout or abort kills the container serving the
 * call and starts a replacement; a crash or OOM kill is reported and the
 * container replaced. With `isolation: per-call` a container serves a single
 * call: the pool keeps fresh (never used) containers started ahead, and
 * retires each after its call.
 */
import type Docker from 'dockerode';
import { AirlockError, type ErrorCode } from '../../errors.ts';
import type { Grants } from '../../grants/types.ts';
import type { CallOptions, CallResult, PendingCall } from '../types.ts';
import { daemonError, daemonUnreachable, PluginContainer, removeLeftovers, type ContainerSpec, type ResultMessage } from './container.ts';

type Job = PendingCall<unknown>;

interface Slot {
  container: PluginContainer | undefined;
  state: 'starting' | 'idle' | 'busy' | 'failed';
  job: Job | undefined;
  /** Why the last start failed; calls fail with it until a restart succeeds. */
  error: AirlockError | undefined;
  /** Resolves when the running call has settled. */
  done: Promise<void> | undefined;
  /** Failed starts in a row; sets the backoff of the next retry. */
  failures: number;
  /** The scheduled retry of a failed slot. */
  retry: NodeJS.Timeout | undefined;
}

/** A failed slot is started again after 0.5 s, 1 s, 2 s, ... up to 30 s between tries. */
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;

/**
 * Codes the in-container host itself reports (origin: airlock, with the container's token). memory-limit is
 * not one: only the daemon's OOMKilled proves it (a plugin can raise MemoryError itself).
 */
const HOST_CODES = new Set<string>(['not-found', 'output-limit', 'crash']);
/**
 * Host-reported codes after which the container is not reused: the host exits after a crash, and after a
 * MemoryError (reported as the plugin's error) the process is in doubt.
 */
const BROKEN_CODES = new Set<string>(['crash', 'MemoryError']);

export class ContainerPool {
  readonly #docker: Docker;
  readonly #grants: Grants;
  readonly #spec: ContainerSpec;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  /** Container stops and replacement starts in flight; close() waits for them. */
  readonly #retiring = new Set<Promise<void>>();
  #closing = false;

  constructor(docker: Docker, grants: Grants, spec: ContainerSpec) {
    this.#docker = docker;
    this.#grants = grants;
    this.#spec = spec;
  }

  get #perCall(): boolean {
    return this.#grants.isolation === 'per-call';
  }

  /** Starts every container; rejects (and stops them) when one cannot start. */
  async start(signal?: AbortSignal): Promise<void> {
    const n = Math.max(1, Math.floor(this.#grants.resources.concurrency));
    for (let i = 0; i < n; i++) this.#slots.push({ container: undefined, state: 'starting', job: undefined, error: undefined, done: undefined, failures: 0, retry: undefined });
    const results = await Promise.allSettled(this.#slots.map((s) => this.#startSlot(s, signal)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await this.close();
      throw failed.reason;
    }
  }

  async #startSlot(slot: Slot, signal?: AbortSignal): Promise<void> {
    slot.state = 'starting';
    slot.container = undefined;
    try {
      const c = await PluginContainer.start(this.#docker, this.#spec, signal);
      if (this.#closing) {
        await c.kill();
        return;
      }
      slot.container = c;
      slot.state = 'idle';
      slot.error = undefined;
      slot.failures = 0;
      // The daemon answers: remove what an earlier outage left.
      this.#track(removeLeftovers(this.#docker));
      // An idle container that dies (killed from outside) is replaced.
      void c.exited.then(() => {
        if (slot.container === c && slot.state === 'idle' && !this.#closing) this.#replace(slot);
      });
      this.#pump();
    } catch (e) {
      slot.state = 'failed';
      slot.failures += 1;
      slot.error =
        e instanceof AirlockError
          ? e
          : signal?.aborted === true
            ? new AirlockError('aborted', `starting a container for ${this.#grants.plugin.name} was aborted`, { cause: e })
            : daemonUnreachable(e)
              ? daemonError(this.#grants.plugin.name, e)
              : new AirlockError('crash', `plugin ${this.#grants.plugin.name}: a container could not start: ${(e as Error).message}`, { cause: e });
      // Queued calls would wait forever for this slot: fail them when no slot can serve.
      if (this.#slots.every((s) => s.state === 'failed')) {
        for (const job of this.#queue.splice(0)) this.#settle(job, slot.error);
      }
      throw slot.error;
    }
  }

  #replace(slot: Slot): void {
    const old = slot.container;
    slot.container = undefined;
    if (old !== undefined) this.#track(old.kill());
    this.#restart(slot);
  }

  /**
   * Starts a slot's container again; when that fails (a transient daemon error, say), tries again later
   * with backoff, so one failed replacement does not cost the pool that slot for good.
   */
  #restart(slot: Slot): void {
    clearTimeout(slot.retry);
    slot.retry = undefined;
    if (this.#closing) return;
    // Tracked, so close() waits for a replacement still starting (and then stops it).
    this.#track(
      this.#startSlot(slot).catch((e: unknown) => {
        if (!this.#closing && slot.state === 'failed') {
          const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(16, slot.failures - 1));
          slot.retry = setTimeout(() => {
            slot.retry = undefined;
            if (slot.state === 'failed') this.#restart(slot);
          }, delay);
          // A pending retry alone does not keep the process alive.
          slot.retry.unref();
        }
        throw e;
      }),
    );
  }

  #track(p: Promise<void>): void {
    const q = p.catch(() => undefined).finally(() => this.#retiring.delete(q));
    this.#retiring.add(q);
  }

  call(tool: string, input: string, options: CallOptions = {}): Promise<CallResult> {
    const start = performance.now();
    if (this.#closing) return Promise.reject(new AirlockError('aborted', `plugin ${this.#grants.plugin.name} is closing`));
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch (e) {
      return Promise.reject(new AirlockError('invalid-input', `the input of ${this.#grants.plugin.name}.${tool} is not JSON: ${(e as Error).message}`));
    }
    if (options.signal?.aborted === true) return Promise.reject(new AirlockError('aborted', `call to ${this.#grants.plugin.name}.${tool} was aborted before it started`));
    const limit = this.#grants.resources.timeoutMs;
    const timeoutMs = options.timeoutMs === undefined ? limit : Math.min(limit, options.timeoutMs);
    return new Promise<CallResult>((resolve, reject) => {
      const job: Job = { tool, input: parsed, start, timeoutMs, signal: options.signal, onAbort: undefined, resolve, reject };
      if (options.signal !== undefined) {
        job.onAbort = () => this.#abort(job);
        options.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      const idle = this.#slots.find((s) => s.state === 'idle');
      if (idle !== undefined) {
        this.#run(idle, job);
        return;
      }
      const allFailed = this.#slots.every((s) => s.state === 'failed');
      if (allFailed && this.#queue.length >= this.#grants.resources.queue) {
        const why = this.#slots[0]?.error?.message ?? 'unknown';
        this.#settle(job, new AirlockError('overloaded', `plugin ${this.#grants.plugin.name}: no container is running (the last start failed: ${why}) and ${this.#queue.length} calls are already waiting; try again later`));
        return;
      }
      if (allFailed) {
        // Every container failed to start: try again now for this call, without waiting for the backoff.
        this.#queue.push(job);
        this.#restart(this.#slots[0] as Slot);
        return;
      }
      if (this.#queue.length >= this.#grants.resources.queue) {
        this.#settle(job, new AirlockError('overloaded', `plugin ${this.#grants.plugin.name}: ${this.#queue.length} calls are already waiting (resources.concurrency ${this.#slots.length}); try again later`));
        return;
      }
      this.#queue.push(job);
    });
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      const slot = this.#slots.find((s) => s.state === 'idle');
      if (slot === undefined) return;
      this.#run(slot, this.#queue.shift() as Job);
    }
  }

  #run(slot: Slot, job: Job): void {
    const c = slot.container as PluginContainer;
    slot.state = 'busy';
    slot.job = job;
    let settled!: () => void;
    slot.done = new Promise<void>((r) => (settled = r));
    const orig = { resolve: job.resolve, reject: job.reject };
    job.resolve = (r) => {
      settled();
      orig.resolve(r);
    };
    job.reject = (e) => {
      settled();
      orig.reject(e);
    };
    const dispatched = performance.now();
    const timer = setTimeout(() => {
      if (slot.job !== job) return;
      this.#settle(job, new AirlockError('timeout', `${this.#grants.plugin.name}.${job.tool} ran past its timeout of ${job.timeoutMs} ms and was stopped`, { details: { timeoutMs: job.timeoutMs } }));
      this.#finish(slot, c, true);
    }, job.timeoutMs);
    c.call(job.tool, job.input).then(
      (msg) => {
        clearTimeout(timer);
        if (slot.job !== job) return;
        const outcome = this.#outcome(job, msg, dispatched, c);
        this.#settle(job, outcome);
        // output-limit or a plugin error leaves a healthy container.
        this.#finish(slot, c, !msg.ok && c.fromHost(msg.error) && BROKEN_CODES.has(msg.error.code));
      },
      (err: AirlockError) => {
        clearTimeout(timer);
        if (slot.job !== job) return;
        this.#settle(job, err);
        this.#finish(slot, c, true);
      },
    );
  }

  /** Ends a slot's call: the container goes back to idle, or is replaced. */
  #finish(slot: Slot, c: PluginContainer, broken: boolean): void {
    slot.job = undefined;
    if (slot.container !== c) return;
    if (broken || this.#perCall || c.killed) {
      this.#replace(slot);
      return;
    }
    slot.state = 'idle';
    this.#pump();
  }

  #outcome(job: Job, msg: ResultMessage, dispatched: number, c: PluginContainer): CallResult | AirlockError {
    const logBytes = this.#grants.resources.logBytes;
    let truncated = msg.truncated;
    let { stdout, stderr } = msg;
    // The host already cuts at the limit; this is the engine's own guarantee.
    if (Buffer.byteLength(stdout) + Buffer.byteLength(stderr) > logBytes) {
      stdout = Buffer.from(stdout).subarray(0, logBytes).toString('utf8');
      stderr = Buffer.from(stderr).subarray(0, Math.max(0, logBytes - Buffer.byteLength(stdout))).toString('utf8');
      truncated = true;
    }
    const logs = { stdout, stderr, ...(truncated ? { truncated: true } : {}) };
    const name = `${this.#grants.plugin.name}.${job.tool}`;
    if (!msg.ok) {
      const e = msg.error;
      if (c.fromHost(e) && HOST_CODES.has(e.code)) {
        return new AirlockError(e.code as ErrorCode, `${name}: ${e.message}`, { details: { logs } });
      }
      return new AirlockError('plugin-error', `${name} failed: ${e.message}`, { details: { pluginCode: e.code, logs } });
    }
    if (Buffer.byteLength(msg.output) > this.#grants.resources.outputBytes) {
      return new AirlockError('output-limit', `${name}: the result is ${Buffer.byteLength(msg.output)} bytes; the limit is ${this.#grants.resources.outputBytes}`, { details: { logs } });
    }
    const end = performance.now();
    return { output: msg.output, logs, metrics: { engine: 'docker', durationMs: end - job.start, queueMs: dispatched - job.start } };
  }

  #settle(job: Job, outcome: CallResult | AirlockError): void {
    if (job.onAbort !== undefined) job.signal?.removeEventListener('abort', job.onAbort);
    if (outcome instanceof AirlockError) job.reject(outcome);
    else job.resolve(outcome);
  }

  #abort(job: Job): void {
    const err = new AirlockError('aborted', `call to ${this.#grants.plugin.name}.${job.tool} was aborted`);
    const q = this.#queue.indexOf(job);
    if (q !== -1) {
      this.#queue.splice(q, 1);
      this.#settle(job, err);
      return;
    }
    const slot = this.#slots.find((s) => s.job === job);
    if (slot === undefined) return;
    this.#settle(job, err);
    this.#finish(slot, slot.container as PluginContainer, true);
  }

  /** Fails queued calls, waits for running ones, then stops every container. */
  async close(): Promise<void> {
    if (this.#closing) {
      await Promise.all(this.#retiring);
      return;
    }
    this.#closing = true;
    for (const s of this.#slots) clearTimeout(s.retry);
    for (const job of this.#queue.splice(0)) this.#settle(job, new AirlockError('aborted', `plugin ${this.#grants.plugin.name} was closed before the call started`));
    // In-flight calls finish first (each ends by its answer, its timeout or its abort).
    await Promise.all(this.#slots.map((s) => (s.job === undefined ? undefined : s.done)));
    for (const s of this.#slots) {
      if (s.container !== undefined) this.#track(s.container.stop());
      s.container = undefined;
    }
    while (this.#retiring.size > 0) await Promise.all(this.#retiring);
    await removeLeftovers(this.#docker);
  }
}

