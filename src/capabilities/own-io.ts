/**
 * wasi:io, wasi:clocks and the rest of wasi:cli without preview2-shim, for a
 * component that imports neither wasi:http nor wasi:sockets (./baseline.ts
 * picks it). The shim's versions talk to an IO thread it starts on import (a
 * nested Node worker per wasm worker: tens of ms of CPU at its start and a
 * few MiB while it lives, issue 21). Such a component leaves that thread
 * nothing to do: its streams are Airlock's (./shim.ts subclasses these
 * classes), and each of its pollables is ready at once or at a deadline (a
 * clock subscription), which this thread waits for itself.
 *
 * A wait blocks the worker in Atomics.wait, as the shim's synchronous calls
 * do: terminating the worker (a call's timeout) interrupts it.
 */
import { hrtime } from 'node:process';
import type { WasiImports } from './types.ts';

const CLOSED = { tag: 'closed' } as const;

/** One cell nobody notifies: Atomics.wait on it is a sleep. */
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps until the monotonic clock reaches `deadline` (ns). */
function sleepUntil(deadline: bigint): void {
  for (;;) {
    const left = deadline - hrtime.bigint();
    if (left <= 0n) return;
    Atomics.wait(sleeper, 0, 0, Math.ceil(Number(left) / 1e6));
  }
}

/** wasi:io/poll pollable: ready at `deadline` on the monotonic clock (0: at once). */
export class Pollable {
  readonly #deadline: bigint;
  constructor(deadline = 0n) {
    this.#deadline = deadline;
  }
  get deadline(): bigint {
    return this.#deadline;
  }
  ready(): boolean {
    return this.#deadline === 0n || this.#deadline <= hrtime.bigint();
  }
  block(): void {
    sleepUntil(this.#deadline);
  }
  [Symbol.dispose](): void {}
}

/** wasi:io/poll poll: the indices of the pollables ready, waiting for the earliest when none is. */
export function poll(list: Pollable[]): Uint32Array {
  // The shim traps on it too: nothing could ever become ready.
  if (list.length === 0) throw new Error('wasi-io trap: attempt to poll on an empty list');
  const readyNow = (): number[] => list.flatMap((p, i) => (p.ready() ? [i] : []));
  let ready = readyNow();
  if (ready.length === 0) {
    // bigint deadlines: no Math.min.
    let earliest = list[0]!.deadline;
    for (const p of list) if (p.deadline < earliest) earliest = p.deadline;
    sleepUntil(earliest);
    ready = readyNow();
  }
  return Uint32Array.from(ready);
}

/** wasi:io/error error (what a failed stream operation carries). */
class IoError extends Error {
  readonly payload: unknown;
  constructor(payload: unknown) {
    const message = (payload as { message?: unknown } | null)?.message;
    super(typeof message === 'string' ? message : String(payload));
    this.payload = payload;
  }
  toDebugString(): string {
    return this.message;
  }
}

/** wasi:io/streams base classes: Airlock's streams subclass them and override every method; a bare one is closed. */
class InputStream {
  read(): never {
    throw CLOSED;
  }
  blockingRead(): never {
    throw CLOSED;
  }
  skip(): never {
    throw CLOSED;
  }
  blockingSkip(): never {
    throw CLOSED;
  }
  subscribe(): Pollable {
    return new Pollable();
  }
  [Symbol.dispose](): void {}
}

class OutputStream {
  checkWrite(): never {
    throw CLOSED;
  }
  write(): never {
    throw CLOSED;
  }
  blockingWriteAndFlush(): never {
    throw CLOSED;
  }
  flush(): never {
    throw CLOSED;
  }
  blockingFlush(): never {
    throw CLOSED;
  }
  writeZeroes(): never {
    throw CLOSED;
  }
  blockingWriteZeroesAndFlush(): never {
    throw CLOSED;
  }
  splice(): never {
    throw CLOSED;
  }
  blockingSplice(): never {
    throw CLOSED;
  }
  subscribe(): Pollable {
    return new Pollable();
  }
  [Symbol.dispose](): void {}
}

class TerminalInput {}
class TerminalOutput {}

/**
 * The families io, clocks and cli. wasi:cli's stdio, exit and environment are
 * the capabilities' (stdio, env): absent here, so a component could never
 * reach the host's.
 */
export const ownIo: WasiImports = {
  'wasi:io/error': { Error: IoError },
  'wasi:io/poll': { Pollable, poll },
  'wasi:io/streams': { InputStream, OutputStream },
  'wasi:clocks/monotonic-clock': {
    resolution: () => 1n,
    now: () => hrtime.bigint(),
    subscribeInstant: (instant: bigint) => new Pollable(BigInt(instant)),
    subscribeDuration: (duration: bigint) => new Pollable(hrtime.bigint() + BigInt(duration)),
  },
  'wasi:clocks/wall-clock': {
    resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
    now: () => {
      const ms = Date.now();
      return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1_000_000 };
    },
  },
  'wasi:cli/environment': { getEnvironment: () => [], getArguments: () => [], initialCwd: () => undefined },
  'wasi:cli/terminal-input': { TerminalInput },
  'wasi:cli/terminal-output': { TerminalOutput },
};
