import type { LogSink } from '../types.ts';

/** Marker appended to a stream that was cut at the log budget. */
export const TRUNCATION_MARKER = '\n[airlock: log truncated]\n';

/**
 * Captures one call's stdout and stderr, keeping at most `limit` bytes of
 * both together; the rest is dropped (the guest is not told) and `truncated`
 * is set.
 */
export class LogCapture implements LogSink {
  readonly limit: number;
  #used = 0;
  #chunks: { stdout: Uint8Array[]; stderr: Uint8Array[] } = { stdout: [], stderr: [] };
  #cut: { stdout: boolean; stderr: boolean } = { stdout: false, stderr: false };

  constructor(limit: number) {
    this.limit = limit;
  }

  write(stream: 'stdout' | 'stderr', bytes: Uint8Array): void {
    const room = this.limit - this.#used;
    const take = Math.min(room, bytes.length);
    if (take > 0) {
      // Copy: the guest's buffer is its linear memory and changes after we return.
      this.#chunks[stream].push(bytes.slice(0, take));
      this.#used += take;
    }
    if (take < bytes.length) this.#cut[stream] = true;
  }

  get truncated(): boolean {
    return this.#cut.stdout || this.#cut.stderr;
  }

  text(stream: 'stdout' | 'stderr'): string {
    const chunks = this.#chunks[stream];
    const text = chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8');
    return this.#cut[stream] ? text + TRUNCATION_MARKER : text;
  }
}
