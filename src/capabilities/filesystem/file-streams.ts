/**
 * The input and output streams of an open file (read-via-stream,
 * write-via-stream, append-via-stream), and the quota-bounded write that
 * both the output stream and `descriptor.write` use.
 */
import { fstatSync, readSync, writeSync } from 'node:fs';
import { createSinkStreamClass, readyPollable, shimStreams, STREAM_CLOSED } from '../shim.ts';
import type { FileUsage, WasiImports } from '../types.ts';
import { wasiCode } from './errors.ts';
import type { Quota } from './quota.ts';

/** Largest single read or write the guest gets per call into us. */
export const MAX_IO = 1 << 20;

/** Makes the streams of open files, on the stream classes of `base`. */
export interface FileStreams {
  /** Reads from `pos` on, advancing. */
  input(fd: number, pos: bigint): object;
  /** Writes at a position (advancing it) or, for `append`, at the file's end each time. */
  output(fd: number, start: bigint | 'append', q: Quota | undefined): object;
}

/** `files` counts every read and write (the call's usage). */
export function fileStreams(base: WasiImports, files: FileUsage): FileStreams {
  const { InputStream } = shimStreams(base);
  const IoError = (base['wasi:io/error'] as unknown as { Error: new (payload: unknown) => Error }).Error;
  const failed = (e: unknown) => ({ tag: 'last-operation-failed', val: new IoError({ code: wasiCode(e), message: String(e) }) });

  class FileInputStream extends InputStream {
    #fd: number;
    #pos: bigint;
    constructor(fd: number, pos: bigint) {
      super();
      this.#fd = fd;
      this.#pos = pos;
    }
    read(len: bigint): Uint8Array {
      const n = Number(len > BigInt(MAX_IO) ? BigInt(MAX_IO) : len);
      const buf = new Uint8Array(n);
      let got: number;
      try {
        got = readSync(this.#fd, buf, 0, n, this.#pos);
      } catch (e) {
        throw failed(e);
      }
      if (got === 0 && n > 0) throw STREAM_CLOSED;
      files.reads++;
      files.readBytes += got;
      this.#pos += BigInt(got);
      return buf.subarray(0, got);
    }
    blockingRead(len: bigint): Uint8Array {
      return this.read(len);
    }
    skip(len: bigint): bigint {
      return BigInt(this.read(len).length);
    }
    blockingSkip(len: bigint): bigint {
      return this.skip(len);
    }
    subscribe(): unknown {
      return readyPollable(base);
    }
  }

  const SinkOutputStream = createSinkStreamClass(base, MAX_IO);
  const output = (fd: number, start: bigint | 'append', q: Quota | undefined): object => {
    let pos = start;
    return new SinkOutputStream((buf) => {
      try {
        const written = guardedWrite(q, fd, buf, pos, (at) => {
          let off = 0;
          while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, at + off);
          return off;
        });
        files.writes++;
        files.writeBytes += written;
        if (pos !== 'append') pos += BigInt(written);
        // What fits is written; the rest fails like a full disk.
        if (written < buf.length) throw 'insufficient-space';
      } catch (e) {
        throw failed(e);
      }
    });
  };
  return { input: (fd, pos) => new FileInputStream(fd, pos), output };
}

/**
 * Writes at `pos` (or at the end, for 'append') under the quota: charges the
 * growth of the file first, cuts the write to what fits, and refunds what
 * the write did not use. `write(at, n)` writes `n` bytes at `at`, returns how many.
 */
export function guardedWrite(q: Quota | undefined, fd: number, buf: Uint8Array, pos: bigint | 'append', write: (at: number, n: number) => number): number {
  if (q === undefined) return write(pos === 'append' ? Number(fstatSync(fd, { bigint: true }).size) : Number(pos), buf.length);
  return q.locked(() => {
    const before = Number(fstatSync(fd, { bigint: true }).size);
    const at = pos === 'append' ? before : Number(pos);
    const growth = Math.max(0, at + buf.length - before);
    const got = q.takeBytes(growth);
    const n = buf.length - (growth - got);
    if (n <= 0) {
      q.freeBytes(got);
      throw 'insufficient-space';
    }
    let written: number;
    try {
      written = write(at, n);
    } catch (e) {
      // How much landed is unknown: measure it.
      q.freeBytes(got - Math.max(0, Number(fstatSync(fd, { bigint: true }).size) - before));
      throw e;
    }
    // Under the lock no other write of this plugin moved the end: it is where this one left it.
    q.freeBytes(got - Math.max(0, at + written - before));
    return written;
  });
}
