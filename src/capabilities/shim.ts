/**
 * Small helpers over preview2-shim's resource classes, shared by the WASI
 * capability modules. jco's glue checks `instanceof` against the classes in
 * the import object, so Airlock's own streams subclass the shim's
 * `wasi:io/streams` classes and override every method: the shim's method
 * bodies (which talk to its IO worker by id) are never reached for them.
 */
import type { WasiImports } from './types.ts';
import { AirlockError } from '../errors.ts';

type Ctor = new () => object;

export interface ShimStreams {
  InputStream: Ctor;
  OutputStream: Ctor;
}

export function shimStreams(base: WasiImports): ShimStreams {
  const streams = base['wasi:io/streams'] as unknown as ShimStreams | undefined;
  if (streams === undefined) throw new AirlockError('internal', 'baseline WASI imports lack wasi:io/streams');
  return streams;
}

/** A pollable that is ready at once (a zero-length monotonic-clock wait). */
export function readyPollable(base: WasiImports): unknown {
  const clock = base['wasi:clocks/monotonic-clock'] as unknown as { subscribeDuration(d: bigint): unknown };
  return clock.subscribeDuration(0n);
}

/** The `closed` stream error (wasi:io/streams stream-error). */
export const STREAM_CLOSED = { tag: 'closed' } as const;

/**
 * Sink-backed output stream: every write goes to `sink`, never to the host's
 * stdio. `maxWrite` is what checkWrite admits at once (and caps writeZeroes).
 */
export function createSinkStreamClass(base: WasiImports, maxWrite = 65536): new (sink: (bytes: Uint8Array) => void) => object {
  const { OutputStream } = shimStreams(base);
  class SinkOutputStream extends OutputStream {
    #sink: (bytes: Uint8Array) => void;
    constructor(sink: (bytes: Uint8Array) => void) {
      super();
      this.#sink = sink;
    }
    checkWrite(): bigint {
      return BigInt(maxWrite);
    }
    write(buf: Uint8Array): void {
      this.#sink(buf);
    }
    blockingWriteAndFlush(buf: Uint8Array): void {
      this.#sink(buf);
    }
    flush(): void {}
    blockingFlush(): void {}
    writeZeroes(len: bigint): void {
      this.#sink(new Uint8Array(Number(len > BigInt(maxWrite) ? BigInt(maxWrite) : len)));
    }
    blockingWriteZeroesAndFlush(len: bigint): void {
      this.writeZeroes(len);
    }
    splice(): bigint {
      throw STREAM_CLOSED;
    }
    blockingSplice(): bigint {
      throw STREAM_CLOSED;
    }
    subscribe(): unknown {
      return readyPollable(base);
    }
  }
  return SinkOutputStream;
}

/** An input stream that is already at its end (the guest's stdin). */
export function createEmptyInputStream(base: WasiImports): object {
  const { InputStream } = shimStreams(base);
  class EmptyInputStream extends InputStream {
    read(): Uint8Array {
      throw STREAM_CLOSED;
    }
    blockingRead(): Uint8Array {
      throw STREAM_CLOSED;
    }
    skip(): bigint {
      throw STREAM_CLOSED;
    }
    blockingSkip(): bigint {
      throw STREAM_CLOSED;
    }
    subscribe(): unknown {
      return readyPollable(base);
    }
  }
  return new EmptyInputStream();
}
