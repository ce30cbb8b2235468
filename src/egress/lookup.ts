/**
 * Name lookups for the egress proxy, bounded for the whole process. The
 * system resolver (`dns.lookup`: getaddrinfo, so /etc/hosts and nsswitch as
 * every other client on the host) holds a libuv thread-pool slot until it
 * answers, and a lookup cannot be cancelled. A plugin granted `*.example.com`
 * chooses the names, so slow ones could hold all four slots and stall the
 * host's file I/O: at most MAX_LOOKUPS run at once, for every plugin of the
 * process; the others wait in a bounded queue and leave it when their
 * request's deadline passes, without ever starting. Each proxy (one per
 * plugin) takes at most one of those slots and one place in their queue,
 * and queues the rest of its lookups on its own (proxyResolver): one plugin
 * asking for slow names without end cannot fill the shared queue or hold
 * both slots, so another plugin's lookup waits for at most one of its own.
 */
import { promises as dns } from 'node:dns';
import type { Resolver } from './types.ts';

/** Lookups in flight at once: half of libuv's default pool of four. */
export const MAX_LOOKUPS = 2;
/** Lookups waiting for a slot; past it a request fails at once (resolve-failed). */
export const MAX_WAITING = 1024;

/** Lookups one proxy runs (or has waiting for a shared slot) at once. */
export const MAX_LOOKUPS_PER_PROXY = 1;

/** A resolver running at most `max` of `lookup` at once, with at most `maxWaiting` waiting. */
export function limitedResolver(lookup: Resolver, max = MAX_LOOKUPS, maxWaiting = MAX_WAITING): Resolver {
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
      return await lookup(host, signal);
    } finally {
      release();
    }
  };
}

/** The process's system resolver, bounded as above. */
export const systemResolver: Resolver = limitedResolver(async (host) => (await dns.lookup(host, { all: true })).map((a) => a.address));

/** One proxy's share of `shared` (default: the system resolver): one lookup at a time, the rest in its own bounded queue. */
export function proxyResolver(shared: Resolver = systemResolver): Resolver {
  return limitedResolver(shared, MAX_LOOKUPS_PER_PROXY, MAX_WAITING);
}
