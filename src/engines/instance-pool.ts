/**
 * One plugin's warm instances as an engine's loaded plugin uses them: its
 * slot pool's start, call, park and close (src/slots/pool.ts), nothing of the
 * driver's side (answer, fail, metrics). Each engine's pool is this with its
 * driver and options (the wasm workers, Docker's containers, Kubernetes' Pods).
 */
import type { SlotDriver, SlotLimits, SlotPoolOptions } from '../slots/driver.ts';
import { SlotPool } from '../slots/pool.ts';
import type { CallOptions, CallResult } from './types.ts';

/** A driver that settles its calls through the pool it serves (set here, once the pool is made). */
export interface PoolDriver<Handle, Input> extends SlotDriver<Handle, Input> {
  pool: SlotPool<Handle, Input, CallResult>;
}

/** How an in-container instance (a Docker container, a Kubernetes Pod) that failed to start is tried again: after 0.5 s, 1 s, 2 s, ... up to 30 s. */
export const CONTAINER_BACKOFF = { baseMs: 500, maxMs: 30_000 } as const;

export class InstancePool<Handle, Input> {
  readonly #pool: SlotPool<Handle, Input, CallResult>;

  constructor(driver: PoolDriver<Handle, Input>, grants: SlotLimits, options: SlotPoolOptions) {
    this.#pool = driver.pool = new SlotPool(driver, grants, options);
  }

  /** Starts every instance; rejects (and stops them) when one cannot start. */
  start(signal?: AbortSignal): Promise<void> {
    return this.#pool.start(signal);
  }

  call(tool: string, input: string, options: CallOptions = {}): Promise<CallResult> {
    return this.#pool.call(tool, input, options);
  }

  /** Stops every idle instance now (see SlotPool.park); resolves with how many. */
  park(): Promise<number> {
    return this.#pool.park();
  }

  /** Drains (or, with closeFailsQueued, fails the queued calls and lets the running ones finish), then stops every instance. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}
