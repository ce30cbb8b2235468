/**
 * Name lookups for the egress proxy, bounded for the whole process. The
 * system resolver (`dns.lookup`: getaddrinfo, so /etc/hosts and nsswitch as
 * every other client on the host) holds a libuv thread-pool slot until it
 * answers, and a lookup cannot be cancelled. A plugin granted `*.example.com`
 * chooses the names, so slow ones could hold all four slots and stall the
 * host's file I/O: at most MAX_LOOKUPS run at once, for every plugin of the
 * process; the others wait in a bounded queue and leave it when their
 * request's deadline passes, without ever starting.
 */
import { promises as dns } from 'node:dns';
import type { Resolver } from './types.ts';

/** Lookups in flight at once: half of libuv's default pool of four. */
export const MAX_LOOKUPS = 2;
/** Lookups waiting for a slot; past it a request fails at once (resolve-failed). */
export const MAX_WAITING = 1024;

/** A resolver running at most `max` of `lookup` at once, with at most `maxWaiting` waiting. */
export function limitedResolver(lookup: (host: string) => Promise<readonly string[]>, max = MAX_LOOKUPS, maxWaiting = MAX_WAITING): Resolver {
  let running = 0;
  /** Each waiter's wake-up: called with the slot already counted as its own. */
  const waiting: Array<() => void> = [];
  const acquire = (signal: AbortSignal | undefined): Promise<void> => {
    signal?.throwIfAborted();
    if (running < max) {
      running++;
      return Promise.resolve();
    }
    if (waiting.length >= maxWaiting) return Promise.reject(new Error(`${maxWaiting} name lookups are already waiting`));
    return new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', leave);
        resolve();
      };
      const leave = (): void => {
        const i = waiting.indexOf(wake);
        if (i >= 0) waiting.splice(i, 1);
        reject(signal?.reason);
      };
      waiting.push(wake);
      signal?.addEventListener('abort', leave, { once: true });
    });
  };
  // The slot passes straight to the next waiter, so a newcomer cannot take it in between.
  const release = (): void => {
    const next = waiting.shift();
    if (next === undefined) running--;
    else next();
  };
  return async (host, signal) => {
    await acquire(signal);
    try {
      return await lookup(host);
    } finally {
      release();
    }
  };
}

/** The proxy's default resolver: the system's, bounded as above. */
export const systemResolver: Resolver = limitedResolver(async (host) => (await dns.lookup(host, { all: true })).map((a) => a.address));
