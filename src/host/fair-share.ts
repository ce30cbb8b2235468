/**
 * Fair shares of a warm pool that several agents share. Each agent may have
 * at most floor(instances / agents sharing) calls in the pool (at least one);
 * its other calls wait here, in the agent's own line, instead of in the
 * pool's queue. So a runaway agent never holds every instance, and never
 * fills the pool's queue (which would make everyone else `overloaded`).
 * A pool used by one agent gives it every instance.
 */
import { AirlockError } from '../errors.ts';

interface Waiter {
  resolve(): void;
  reject(err: AirlockError): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export class FairShare {
  readonly #limit: () => number;
  #inFlight = 0;
  readonly #waiting: Waiter[] = [];

  /** `limit` is read on every entry and exit: shares change as agents load and unload the plugin. */
  constructor(limit: () => number) {
    this.#limit = limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Resolves when this agent may send one more call to the pool; rejects `aborted` when the signal fires first. */
  enter(signal: AbortSignal | undefined, what: string): Promise<void> {
    if (this.#waiting.length === 0 && this.#inFlight < this.#limit()) {
      this.#inFlight++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.#waiting.indexOf(waiter);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(new AirlockError('aborted', `${what} was aborted while waiting for its agent's share of the plugin's instances`, { cause: signal?.reason }));
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** One call of this agent left the pool. */
  leave(): void {
    this.#inFlight--;
    while (this.#waiting.length > 0 && this.#inFlight < this.#limit()) {
      const next = this.#waiting.shift() as Waiter;
      next.signal?.removeEventListener('abort', next.onAbort);
      this.#inFlight++;
      next.resolve();
    }
  }
}
