/**
 * What a user of the slot pool (./pool.ts) gives it: how to start, run, kill
 * and stop one slot's instance (an engine's worker thread, container or
 * permission to spawn one process; the host's worker lane thread). The pool
 * owns everything else: the queue, aborts, timeouts, timing, replacement
 * and drain. It knows nothing of engines: a call's result is whatever the
 * driver answers.
 */
import type { AirlockError } from '../errors.ts';
import type { SlotErrors } from './messages.ts';

/** What the pool reads of a plugin's grants (a Grants fits; a host lane gives its own). */
export interface SlotLimits {
  /** Names the owner in error texts. */
  plugin: { name: string };
  /** Calls at once; calls waiting beyond them (Infinity: no limit); a call's longest run in ms. */
  resources: { concurrency: number; queue: number; timeoutMs: number };
}

export interface SlotCallOptions {
  /** Aborts the call: a queued call is dequeued, a running one has its instance killed and replaced. */
  signal?: AbortSignal;
  /** Lowers resources.timeoutMs for this call (never raises it). */
  timeoutMs?: number;
}

/** How long a call took, from entering the pool, and how much of it it waited for a slot. */
export interface SlotTiming {
  durationMs: number;
  queueMs: number;
}

/** A call waiting in, or running on, a slot; it settles with a `Result`. */
export interface SlotCall<Input, Result = unknown> {
  readonly tool: string;
  readonly input: Input;
  /** When the call entered the pool (performance.now()). */
  readonly start: number;
  /** When a slot took it. */
  dispatched: number;
  /** The lower of the call's own timeout and grants.resources.timeoutMs. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The slot running it; undefined while queued and once settled. */
  slot: Slot<unknown, Input> | undefined;
  resolve(r: Result): void;
  reject(e: AirlockError): void;
}

export interface Slot<Handle, Input = string> {
  /** The driver's instance; undefined while starting, after a failed start and once stopped. */
  handle: Handle | undefined;
  /** `parked`: its instance was stopped after idleMs without a call (or by park()); the next call that waits starts one. */
  state: 'starting' | 'idle' | 'busy' | 'parked' | 'failed';
  call: SlotCall<Input> | undefined;
  /** When it last became idle (SlotPoolOptions.now), for idleMs. */
  idleSince: number;
  /** Why the last start failed. */
  error: AirlockError | undefined;
  /** Failed starts in a row (sets the backoff). */
  failures: number;
  retry: NodeJS.Timeout | undefined;
}

export interface SlotDriver<Handle, Input = string, Raw = string> {
  /**
   * Starts an instance for `slot`; resolves when it can take a call. `prev` is
   * the instance it replaces (already being killed), `signal` aborts the start
   * (the load's signal, or the pool stopping). Rejects with an AirlockError.
   */
  start(slot: Slot<Handle, Input>, prev: Handle | undefined, signal: AbortSignal | undefined): Promise<Handle>;
  /**
   * Starts `call` on the slot's instance and later settles it through the
   * pool's answer() or fail(). Throwing an AirlockError refuses the call and
   * leaves the slot idle.
   */
  run(slot: Slot<Handle, Input>, call: SlotCall<Input>): void;
  /** Ends an instance at once (timeout, abort, crash, broken); the pool starts a replacement. */
  kill(handle: Handle): Promise<void>;
  /** Stops an idle instance at close. */
  stop(handle: Handle): Promise<void>;
  /** Checks and converts a call's input before it queues (throws AirlockError); the input as is without it. */
  admit?(tool: string, input: Raw): Input;
  /** Called after call() handed a call straight to an idle slot (the wasm engine spins for the answer here). */
  dispatched?(): void;
  /** Whether idle slot `b` should take the next call rather than idle slot `a`. */
  prefer?(a: Handle, b: Handle): boolean;
  /** After close stopped every slot. */
  closed?(): Promise<void>;
}

export interface SlotPoolOptions {
  /** What one slot's instance is called in error texts: worker, container, process, thread. */
  instance: string;
  /** Slots kept beyond resources.concurrency (a standby never runs a call beyond the limit). */
  spare?: number;
  /**
   * How long one instance may take to start before the pool aborts its start (the driver's `signal`) and
   * fails it with `timeout`: a plugin's own start code (a component's start function) may never return.
   * Absent: a start is bounded by the driver alone.
   */
  startTimeoutMs?: number;
  /**
   * A slot whose replacement failed to start is tried again after
   * baseMs, 2 x baseMs, ... up to maxMs. Without it, a failed slot is tried
   * again when a call has to wait (a start that fails the same way is not
   * retried in a loop).
   */
  backoff?: { baseMs: number; maxMs: number };
  /** close() fails queued calls (aborted) instead of running them first. */
  closeFailsQueued?: boolean;
  /**
   * How long past the granted timeout the pool waits before killing: the
   * engine enforces the granted limit itself and reports it better (wasmtime's
   * epoch deadline). A lower per-call timeout is always the pool's.
   */
  timeoutGraceMs?: number;
  /**
   * The pool's own error texts replaced (./messages.ts): a user whose callers
   * know its errors by other words (the host's worker lane) gives its own.
   */
  errors?: Partial<SlotErrors>;
  /**
   * A slot idle this long (ms) without a call is parked: its instance is
   * stopped, and a call that finds no idle slot starts it again (queued as
   * usual meanwhile). Whatever the instance kept in memory is gone. Absent
   * or 0: never.
   */
  idleMs?: number;
  /** The clock idleMs is measured on (tests inject one). Default performance.now. */
  now?: () => number;
}
