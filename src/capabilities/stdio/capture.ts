import type { LogSink } from '../types.ts';

/** Marker appended to a stream that was cut at the log budget. */
export const TRUNCATION_MARKER = '\n[airlock: log truncated]\n';

/**
 * Captures one call's stdout and stderr, keeping at most `limit` bytes of
 * both together; the rest is dropped (the guest is not told) and `truncated`
 * is set. Each stream's bytes are copied into one buffer (doubled as it
 * grows, within the limit), not kept per write: a guest writing one byte at
 * a time would otherwise cost an object per byte.
 */
/** A stream's buffer until its first write (never written into: a write grows it first). */
const NONE = new Uint8Array(0);

export class LogCapture implements LogSink {
  readonly limit: number;
  #used = 0;
  #bufs: { stdout: Uint8Array; stderr: Uint8Array } = { stdout: NONE, stderr: NONE };
  #lens: { stdout: number; stderr: number } = { stdout: 0, stderr: 0 };
  #cut: { stdout: boolean; stderr: boolean } = { stdout: false, stderr: false };

  constructor(limit: number) {
    this.limit = limit;
  }

  write(stream: 'stdout' | 'stderr', bytes: Uint8Array): void {
    const room = this.limit - this.#used;
    const take = Math.min(room, bytes.length);
    if (take > 0) {
      // Copied: the guest's buffer is its linear memory and changes after we return.
      const len = this.#lens[stream];
      let buf = this.#bufs[stream];
      if (len + take > buf.length) {
        const grown = new Uint8Array(Math.min(this.limit, Math.max(len + take, buf.length * 2, 256)));
        grown.set(buf.subarray(0, len));
        this.#bufs[stream] = buf = grown;
      }
      buf.set(bytes.subarray(0, take), len);
      this.#lens[stream] = len + take;
      this.#used += take;
    }
    if (take < bytes.length) this.#cut[stream] = true;
  }

  get truncated(): boolean {
    return this.#cut.stdout || this.#cut.stderr;
  }

  text(stream: 'stdout' | 'stderr'): string {
    const buf = this.#bufs[stream];
    // Most calls print nothing: no Buffer made for them (two per call, on the warm path).
    const text = this.#lens[stream] === 0 ? '' : Buffer.from(buf.buffer, buf.byteOffset, this.#lens[stream]).toString('utf8');
    return this.#cut[stream] ? text + TRUNCATION_MARKER : text;
  }
}
