/**
 * One plugin's slots, on every engine (and the host's worker lane,
 * src/worker-lane.ts): resources.concurrency slots (plus an optional
 * standby) each running one call at a time, a queue in front of them whose
 * overflow is `overloaded`, aborts while queued or running, the per-call
 * timeout, replacement of a slot whose instance was killed or died, parking
 * of slots idle past idleMs (their instances stopped until a call needs them
 * again), and close = drain, then stop. The user supplies a driver (./driver.ts) for
 * what an instance is and what a call settles with (`Result`).
 *
 *   const pool = new SlotPool<Worker, string, CallResult>(driver, grants, { instance: 'worker' });
 *   await pool.start();
 *   const { output, logs, metrics } = await pool.call('echo', '{}', { signal, timeoutMs });
 *   await pool.close();
 */
import { AirlockError } from '../errors.ts';
import type { Slot, SlotCall, SlotCallOptions, SlotDriver, SlotLimits, SlotPoolOptions, SlotTiming } from './driver.ts';
import { type SlotErrors, slotErrors } from './messages.ts';

export class SlotPool<Handle, Input = string, Result = unknown, Raw = string> {
  readonly #driver: SlotDriver<Handle, Input, Raw>;
  readonly #opts: SlotPoolOptions;
  readonly #errors: SlotErrors;
  readonly #plugin: string;
  /** Calls that may run at once. */
  readonly #concurrency: number;
  readonly #queueLimit: number;
  readonly #grantedMs: number;
  readonly #slots: Slot<Handle, Input>[] = [];
  readonly #queue: SlotCall<Input, Result>[] = [];
  /** Kills, stops and replacement starts in flight; close() waits for them. */
  readonly #pending = new Set<Promise<void>>();
  /** Aborts starts still in flight when close stops the slots. */
  readonly #stopping = new AbortController();
  #closing = false;
  #closed: Promise<void> | undefined;
  /** 0: slots are never parked. */
  readonly #idleMs: number;
  readonly #now: () => number;
  /** Armed for the earliest idle slot's deadline while any slot is idle. */
  #idleTimer: NodeJS.Timeout | undefined;
  #drained: (() => void) | undefined;
  /** Bound once: the per-call timer takes the call as its argument instead of a closure per call. */
  readonly #onTimeout = (call: SlotCall<Input, Result>): void => {
    const slot = call.slot as Slot<Handle, Input> | undefined;
    if (slot === undefined || slot.call !== call) return;
    this.#kill(slot, this.#errors.timeout(this.#plugin, call.tool, this.#opts.instance, call.timeoutMs, this.#grantedMs));
  };

  constructor(driver: SlotDriver<Handle, Input, Raw>, grants: SlotLimits, options: SlotPoolOptions) {
    this.#driver = driver;
    this.#opts = options;
    this.#errors = options.errors === undefined ? slotErrors : { ...slotErrors, ...options.errors };
    this.#plugin = grants.plugin.name;
    this.#concurrency = Math.max(1, Math.floor(grants.resources.concurrency));
    this.#queueLimit = Math.max(0, grants.resources.queue);
    this.#grantedMs = grants.resources.timeoutMs;
    this.#idleMs = Math.max(0, options.idleMs ?? 0);
    this.#now = options.now ?? performance.now.bind(performance);
  }

  /** Every slot, for a driver that watches its busy ones (the wasm engine's spin). */
  get slots(): readonly Slot<Handle, Input>[] {
    return this.#slots;
  }

  /** Starts every slot; when one cannot start, stops the others and rejects with its error. */
  async start(signal?: AbortSignal): Promise<void> {
    const n = this.#concurrency + (this.#opts.spare ?? 0);
    for (let i = 0; i < n; i++)
      this.#slots.push({ handle: undefined, state: 'starting', call: undefined, idleSince: 0, error: undefined, failures: 0, retry: undefined });
    const results = await Promise.allSettled(this.#slots.map((s) => this.#startSlot(s, signal)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await this.close();
      throw failed.reason;
    }
  }

  async #startSlot(slot: Slot<Handle, Input>, signal: AbortSignal | undefined): Promise<void> {
    const prev = slot.handle;
    slot.handle = undefined;
    slot.state = 'starting';
    let handle: Handle;
    const limit = this.#opts.startTimeoutMs;
    const deadline = limit === undefined ? undefined : AbortSignal.timeout(limit);
    try {
      handle = await this.#driver.start(slot, prev, deadline === undefined ? signal : signal === undefined ? deadline : AbortSignal.any([signal, deadline]));
    } catch (e) {
      const err =
        deadline?.aborted === true && signal?.aborted !== true && limit !== undefined
          ? this.#errors.startTimeout(this.#plugin, this.#opts.instance, limit)
          : e instanceof AirlockError
            ? e
            : new AirlockError('crash', `plugin ${this.#plugin}: a ${this.#opts.instance} could not start: ${(e as Error).message}`, { cause: e });
      slot.state = 'failed';
      slot.failures += 1;
      slot.error = err;
      // Queued calls would wait forever: fail them when no slot can serve (a parked one would start the same way).
      if (this.#slots.every((s) => s.state === 'failed' || s.state === 'parked')) this.#failQueued(err);
      throw err;
    }
    if (this.#stopping.signal.aborted) {
      slot.state = 'failed';
      this.#track(this.#driver.kill(handle));
      return;
    }
    slot.handle = handle;
    slot.state = 'idle';
    slot.idleSince = this.#now();
    slot.error = undefined;
    slot.failures = 0;
    this.#pump();
  }

  /** Starts a slot again; with a backoff, a failed try is repeated later. */
  #restart(slot: Slot<Handle, Input>): void {
    clearTimeout(slot.retry);
    slot.retry = undefined;
    const backoff = this.#opts.backoff;
    const started = this.#startSlot(slot, this.#stopping.signal).catch(() => {
      if (backoff === undefined || this.#closing || slot.state !== 'failed') return;
      const delay = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(16, slot.failures - 1));
      slot.retry = setTimeout(() => {
        slot.retry = undefined;
        if (slot.state === 'failed' && !this.#closing) this.#restart(slot);
      }, delay);
      // A pending retry alone does not keep the process alive.
      slot.retry.unref();
    });
    this.#track(started);
  }

  /** Kills the slot's instance and starts another (while closing, only when calls still wait for one). */
  #replace(slot: Slot<Handle, Input>): void {
    const old = slot.handle;
    if (old !== undefined) this.#track(this.#driver.kill(old));
    if (!this.#closing || this.#queue.length > 0) {
      this.#restart(slot);
    } else {
      slot.handle = undefined;
      slot.state = 'failed';
    }
    this.#checkDrained();
  }

  #track(p: Promise<void>): void {
    const q: Promise<void> = p.catch(() => undefined).finally(() => this.#pending.delete(q));
    this.#pending.add(q);
  }

  call(tool: string, input: Raw, options: SlotCallOptions = {}): Promise<Result> {
    if (this.#closing) return Promise.reject(this.#errors.closed(this.#plugin, tool));
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(this.#errors.abortedBeforeStart(this.#plugin, tool, signal.reason));
    let admitted: Input;
    try {
      admitted = this.#driver.admit === undefined ? (input as unknown as Input) : this.#driver.admit(tool, input);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const timeoutMs = options.timeoutMs === undefined ? this.#grantedMs : Math.min(options.timeoutMs, this.#grantedMs);
    return new Promise<Result>((resolve, reject) => {
      const now = performance.now();
      const call: SlotCall<Input, Result> = {
        tool,
        input: admitted,
        start: now,
        dispatched: now,
        timeoutMs,
        signal,
        onAbort: undefined,
        timer: undefined,
        slot: undefined,
        resolve,
        reject,
      };
      if (signal !== undefined) {
        call.onAbort = () => this.#abort(call);
        signal.addEventListener('abort', call.onAbort, { once: true });
      }
      const slot = this.#idleSlot();
      if (slot !== undefined) {
        this.#run(slot, call);
        this.#driver.dispatched?.();
        return;
      }
      if (this.#queue.length >= this.#queueLimit + this.#wakeRoom()) {
        this.#unlisten(call);
        const failed = this.#slots.every((s) => s.state === 'failed');
        reject(
          failed
            ? this.#errors.noneRunning(this.#plugin, tool, this.#opts.instance, this.#slots[0]?.error?.message ?? 'unknown', this.#queue.length)
            : this.#errors.overloaded(this.#plugin, tool, this.#busy(), this.#queue.length, this.#concurrency, this.#queueLimit),
        );
        return;
      }
      this.#queue.push(call);
      this.#revive();
    });
  }

  #busy(): number {
    let n = 0;
    for (const s of this.#slots) if (s.state === 'busy') n++;
    return n;
  }

  /** An idle slot (the driver's preferred one), none while `concurrency` calls run. */
  #idleSlot(): Slot<Handle, Input> | undefined {
    const prefer = this.#driver.prefer;
    let busy = 0;
    let idle: Slot<Handle, Input> | undefined;
    for (const s of this.#slots) {
      if (s.state === 'busy') busy++;
      else if (s.state === 'idle' && (idle === undefined || prefer?.(idle.handle as Handle, s.handle as Handle))) idle = s;
    }
    return busy < this.#concurrency ? idle : undefined;
  }

  /**
   * Calls that may wait beyond the queue limit: one for each slot that is
   * starting or will start for a waiting call (parked; without a backoff,
   * failed too) and may run it. The queue limit bounds calls waiting for a
   * busy slot, not for one on its way.
   */
  #wakeRoom(): number {
    const failedWakes = this.#opts.backoff === undefined;
    let busy = 0;
    let waking = 0;
    for (const s of this.#slots) {
      if (s.state === 'busy') busy++;
      else if (s.state === 'starting' || s.state === 'parked' || (failedWakes && s.state === 'failed')) waking++;
    }
    return Math.max(0, Math.min(waking, this.#concurrency - busy));
  }

  /**
   * A call has to wait: parked slots start again, one for each waiting call
   * no other start will serve; failed slots are started again (with a
   * backoff, only when none is left).
   */
  #revive(): void {
    let starting = 0;
    for (const s of this.#slots) if (s.state === 'starting') starting++;
    for (const s of this.#slots) {
      if (starting >= this.#queue.length) break;
      if (s.state !== 'parked') continue;
      this.#restart(s);
      starting++;
    }
    if (this.#opts.backoff === undefined) {
      for (const s of this.#slots) if (s.state === 'failed') this.#restart(s);
    } else if (this.#slots.every((s) => s.state === 'failed')) {
      // Every slot failed: try one now for this call, without waiting for the backoff.
      this.#restart(this.#slots[0] as Slot<Handle, Input>);
    }
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      const slot = this.#idleSlot();
      if (slot === undefined) break;
      this.#run(slot, this.#queue.shift() as SlotCall<Input, Result>);
    }
    this.#checkDrained();
    if (this.#idleMs > 0) this.#armIdle();
  }

  /** Arms the idle timer for the earliest idle slot's deadline, unless it is armed already (it re-arms itself). */
  #armIdle(): void {
    if (this.#idleTimer !== undefined || this.#closing) return;
    let first = Number.POSITIVE_INFINITY;
    for (const s of this.#slots) if (s.state === 'idle' && s.idleSince < first) first = s.idleSince;
    if (first === Number.POSITIVE_INFINITY) return;
    this.#idleTimer = setTimeout(this.#onIdle, Math.max(0, first + this.#idleMs - this.#now()));
    // An idle plugin alone does not keep the process alive.
    this.#idleTimer.unref();
  }

  readonly #onIdle = (): void => {
    this.#idleTimer = undefined;
    const now = this.#now();
    for (const s of this.#slots) if (s.state === 'idle' && now - s.idleSince >= this.#idleMs) void this.#park(s);
    this.#armIdle();
  };

  /** Stops an idle slot's instance; the slot waits, parked, for a call that finds no idle slot. */
  #park(slot: Slot<Handle, Input>): Promise<void> {
    const handle = slot.handle as Handle;
    slot.handle = undefined;
    slot.state = 'parked';
    const stopped = this.#driver.stop(handle);
    this.#track(stopped);
    return stopped.catch(() => undefined);
  }

  /**
   * Parks every idle slot now, as idleMs does after the idle period: their
   * instances are stopped (and what they kept in memory lost); the next call
   * that finds no idle slot starts one again. Resolves, with how many were
   * parked, once their instances have stopped.
   */
  async park(): Promise<number> {
    if (this.#closing) return 0;
    const stops: Promise<void>[] = [];
    for (const s of this.#slots) if (s.state === 'idle') stops.push(this.#park(s));
    await Promise.all(stops);
    return stops.length;
  }

  #run(slot: Slot<Handle, Input>, call: SlotCall<Input, Result>): void {
    slot.state = 'busy';
    slot.call = call;
    call.slot = slot as Slot<unknown, Input>;
    try {
      this.#driver.run(slot, call);
    } catch (e) {
      slot.state = 'idle';
      slot.call = undefined;
      call.slot = undefined;
      this.#unlisten(call);
      call.reject(e instanceof AirlockError ? e : new AirlockError('internal', String(e)));
      return;
    }
    call.dispatched = performance.now();
    const ms = call.timeoutMs < this.#grantedMs ? call.timeoutMs : call.timeoutMs + (this.#opts.timeoutGraceMs ?? 0);
    call.timer = setTimeout(this.#onTimeout, ms, call);
  }

  /** Lets go of a running call's timer, abort listener and slot. */
  #release(call: SlotCall<Input, Result>): Slot<Handle, Input> | undefined {
    const slot = call.slot as Slot<Handle, Input> | undefined;
    if (slot === undefined || slot.call !== call) return undefined;
    clearTimeout(call.timer);
    call.timer = undefined;
    slot.call = undefined;
    call.slot = undefined;
    this.#unlisten(call);
    return slot;
  }

  #unlisten(call: SlotCall<Input, Result>): void {
    if (call.onAbort !== undefined) call.signal?.removeEventListener('abort', call.onAbort);
  }

  /** The timing of a call that ends now, for the driver's result (or an error's details). */
  metrics(call: SlotCall<Input, Result>): SlotTiming {
    return { durationMs: performance.now() - call.start, queueMs: call.dispatched - call.start };
  }

  /**
   * The driver's answer to a running call; `replace` retires the instance
   * (per-call isolation, or one in doubt). Ignored for a call that was
   * already settled (timed out, aborted).
   */
  answer(call: SlotCall<Input, Result>, result: Result, replace = false): void {
    const slot = this.#release(call);
    if (slot === undefined) return;
    call.resolve(result);
    this.#free(slot, replace);
  }

  /** The driver's error for a running call; see answer(). */
  fail(call: SlotCall<Input, Result>, err: AirlockError, replace = false): void {
    const slot = this.#release(call);
    if (slot === undefined) return;
    call.reject(err);
    this.#free(slot, replace);
  }

  /** The driver saw `handle` die by itself: its call (if any) fails with `err`, and the slot is started again. */
  died(slot: Slot<Handle, Input>, handle: Handle, err: AirlockError): void {
    if (slot.handle !== handle) return;
    const call = slot.call;
    if (call !== undefined) {
      this.#release(call);
      call.reject(err);
    }
    this.#replace(slot);
  }

  #free(slot: Slot<Handle, Input>, replace: boolean): void {
    if (replace) return this.#replace(slot);
    slot.state = 'idle';
    if (this.#idleMs > 0) slot.idleSince = this.#now();
    // Results settle as microtasks, so the next queued call starts first.
    this.#pump();
  }

  /** Ends a running call with `err`, killing and replacing its instance (timeout, abort). */
  #kill(slot: Slot<Handle, Input>, err: AirlockError): void {
    const call = slot.call;
    if (call === undefined) return;
    this.#release(call);
    call.reject(err);
    this.#replace(slot);
  }

  #abort(call: SlotCall<Input, Result>): void {
    const i = this.#queue.indexOf(call);
    if (i >= 0) {
      this.#queue.splice(i, 1);
      call.reject(this.#errors.abortedQueued(this.#plugin, call.tool, call.signal?.reason));
      this.#checkDrained();
      return;
    }
    const slot = call.slot as Slot<Handle, Input> | undefined;
    if (slot !== undefined) this.#kill(slot, this.#errors.abortedRunning(this.#plugin, call.tool, this.#opts.instance, call.signal?.reason));
  }

  #failQueued(err: AirlockError | ((call: SlotCall<Input, Result>) => AirlockError)): void {
    for (const call of this.#queue.splice(0)) {
      this.#unlisten(call);
      call.reject(typeof err === 'function' ? err(call) : err);
    }
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#drained === undefined || this.#queue.length > 0) return;
    for (const s of this.#slots) if (s.state === 'busy') return;
    const d = this.#drained;
    this.#drained = undefined;
    d();
  }

  /** Refuses new calls, lets queued and running ones finish (or fails the queued, see closeFailsQueued), then stops every slot. */
  close(): Promise<void> {
    // A second close() waits for the first one's drain, so it never resolves while instances still run.
    this.#closed ??= this.#drainAndStop();
    return this.#closed;
  }

  async #drainAndStop(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#idleTimer);
    for (const s of this.#slots) clearTimeout(s.retry);
    if (this.#opts.closeFailsQueued === true) this.#failQueued((call) => this.#errors.closedBeforeStart(this.#plugin, call.tool));
    if (this.#queue.length > 0 || this.#slots.some((s) => s.state === 'busy')) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
    }
    this.#stopping.abort();
    for (const s of this.#slots) {
      if (s.handle !== undefined) this.#track(this.#driver.stop(s.handle));
      s.handle = undefined;
      s.state = 'failed';
    }
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    await this.#driver.closed?.();
  }
}
