/**
 * The disk quota of a plugin's read-write grants on the worker engine. All
 * read-write grants of a plugin together behave like one volume of
 * `resources.disk` bytes (the sum of regular files' sizes: a sparse hole
 * counts, as it may be filled later) holding at most `resources.files`
 * entries (files, folders, links). What is already there counts: it is
 * measured once, by a bounded walk, when the first instance opens the grants,
 * and then kept current by every write, set-size, create, mkdir, link,
 * unlink, rmdir and rename the layer in ./descriptor.ts performs.
 *
 * The counters live in a SharedArrayBuffer the engine creates once per
 * plugin and hands to every worker, so concurrent instances draw from the
 * same budget. Each mutation runs under one lock in that buffer (measure,
 * check, act, measure again), so two instances can never both pass the check
 * on the last free byte, and the counts stay exact. Bytes are charged before
 * the write and the unused part refunded after it: a worker killed in between
 * (timeout) leaves the count too high, never too low; the engine frees the
 * lock such a worker held (`releaseQuotaLock`).
 */
import { lstatSync, opendirSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

const STATE = 0;
const BYTES = 1;
const FILES = 2;
const LOCK = 3;
const COUNTED = 1n;
/** Waits on the lock are re-checked this often, in case a wake-up was missed. */
const LOCK_RECHECK_MS = 1000;

export interface QuotaLimits {
  bytes: number;
  files: number;
}

/** The shared counters of one plugin: [counted, bytes, files, lock owner]. */
export function createQuotaState(): SharedArrayBuffer {
  return new SharedArrayBuffer(4 * BigInt64Array.BYTES_PER_ELEMENT);
}

/** Frees the lock if the thread `thread` (now gone) held it; the engine calls this when a worker exits. */
export function releaseQuotaLock(state: SharedArrayBuffer, thread: number): void {
  const a = new BigInt64Array(state);
  const owner = BigInt(thread) + 1n;
  if (Atomics.compareExchange(a, LOCK, owner, 0n) === owner) Atomics.notify(a, LOCK);
}

/** What the counters hold, for tests and diagnostics. */
export function quotaUsage(state: SharedArrayBuffer): { counted: boolean; bytes: number; files: number; locked: boolean } {
  const a = new BigInt64Array(state);
  return {
    counted: Atomics.load(a, STATE) === COUNTED,
    bytes: Number(Atomics.load(a, BYTES)),
    files: Number(Atomics.load(a, FILES)),
    locked: Atomics.load(a, LOCK) !== 0n,
  };
}

export class Quota {
  readonly limits: QuotaLimits;
  readonly #a: BigInt64Array;
  #held = false;

  constructor(limits: QuotaLimits, state: SharedArrayBuffer = createQuotaState()) {
    this.limits = limits;
    this.#a = new BigInt64Array(state);
  }

  /** Runs `fn` holding the plugin's quota lock (re-entrant within one call chain). */
  locked<T>(fn: () => T): T {
    if (this.#held) return fn();
    const me = BigInt(threadId) + 1n;
    for (;;) {
      const owner = Atomics.compareExchange(this.#a, LOCK, 0n, me);
      if (owner === 0n) break;
      Atomics.wait(this.#a, LOCK, owner, LOCK_RECHECK_MS);
    }
    this.#held = true;
    try {
      return fn();
    } finally {
      this.#held = false;
      Atomics.store(this.#a, LOCK, 0n);
      Atomics.notify(this.#a, LOCK);
    }
  }

  /** Counts what the grant folders hold, once per plugin (the first instance does it). */
  ensureCounted(roots: string[]): void {
    if (Atomics.load(this.#a, STATE) === COUNTED) return;
    this.locked(() => {
      if (Atomics.load(this.#a, STATE) === COUNTED) return;
      const used = measure(roots, this.limits.files + 1);
      // A folder fuller than the quota stays full: the plugin may only shrink it.
      Atomics.store(this.#a, BYTES, BigInt(used.complete ? used.bytes : Math.max(used.bytes, this.limits.bytes)));
      Atomics.store(this.#a, FILES, BigInt(used.files));
      Atomics.store(this.#a, STATE, COUNTED);
    });
  }

  /** Charges up to `n` bytes; returns how many fit (0 when the quota is full). Call under the lock. */
  takeBytes(n: number): number {
    if (n <= 0) return 0;
    const used = Atomics.load(this.#a, BYTES);
    const free = BigInt(this.limits.bytes) - used;
    const got = free <= 0n ? 0 : Number(free < BigInt(n) ? free : BigInt(n));
    if (got > 0) Atomics.add(this.#a, BYTES, BigInt(got));
    return got;
  }

  /** Gives back `n` bytes (a refund, a shrink, a removal); never below zero. Call under the lock. */
  freeBytes(n: number): void {
    if (n <= 0) return;
    const used = Atomics.load(this.#a, BYTES);
    Atomics.store(this.#a, BYTES, used > BigInt(n) ? used - BigInt(n) : 0n);
  }

  /** Charges one file or folder, or throws `quota` (EDQUOT). Call under the lock. */
  takeFile(): void {
    if (Atomics.load(this.#a, FILES) >= BigInt(this.limits.files)) throw 'quota';
    Atomics.add(this.#a, FILES, 1n);
  }

  freeFile(): void {
    const used = Atomics.load(this.#a, FILES);
    if (used > 0n) Atomics.store(this.#a, FILES, used - 1n);
  }
}

/**
 * Bytes and entries below `roots` (host paths of folders), never following a
 * symlink, visiting at most `maxEntries` entries and reading one directory
 * entry at a time (a folder of a million names costs no memory). A hard-linked
 * file's bytes count once. `complete: false` when the walk stopped early (too
 * many entries, an unreadable or too deep folder): the caller then treats the
 * bytes as full.
 */
export function measure(roots: string[], maxEntries: number): { bytes: number; files: number; complete: boolean } {
  let bytes = 0;
  let files = 0;
  const seen = new Set<string>();
  const stack = [...roots];
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    let handle;
    try {
      handle = opendirSync(dir);
    } catch {
      return { bytes, files, complete: false };
    }
    try {
      for (let e = handle.readSync(); e !== null; e = handle.readSync()) {
        if (++files > maxEntries) return { bytes, files, complete: false };
        const path = `${dir}/${e.name}`;
        if (e.isDirectory()) {
          stack.push(path);
        } else if (e.isFile()) {
          const st = lstatSync(path, { bigint: true, throwIfNoEntry: false });
          if (st === undefined || !st.isFile()) continue;
          if (st.nlink > 1n) {
            const key = `${st.dev}:${st.ino}`;
            if (seen.has(key)) continue;
            seen.add(key);
          }
          bytes += Number(st.size);
        }
      }
    } catch {
      return { bytes, files, complete: false };
    } finally {
      handle.closeSync();
    }
  }
  return { bytes, files, complete: true };
}
